#include "aws/rds.h"

#include <string>
#include <utility>

namespace hivemind::aws::rds {
namespace {

using calls::append_list;
using calls::bool_value;
using calls::int_value;
using calls::text;

// RDS names each list member after its type on the wire: Tags.Tag.N,
// SubnetIds.SubnetIdentifier.N, VpcSecurityGroupIds.VpcSecurityGroupId.N.
void append_tags(QueryParams& params, const Tags& tags) {
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string prefix = "Tags.Tag." + std::to_string(i + 1);
    params.emplace_back(prefix + ".Key", tags[i].key);
    params.emplace_back(prefix + ".Value", tags[i].value);
  }
}

Tags parse_tags(pugi::xml_node list) {
  Tags tags;
  for (pugi::xml_node tag : list.children("Tag")) tags.push_back(Tag{text(tag, "Key"), text(tag, "Value")});
  return tags;
}

AwsResult<XmlResponse> send(AwsClient& client, std::string_view action, const QueryParams& params) {
  return client.query(rds_service(), action, params);
}

template <typename T, typename Parse>
AwsResult<std::vector<T>> describe_all(AwsClient& client, std::string_view action, QueryParams params,
                                       const char* list_name, const char* item_name, Parse parse) {
  std::vector<T> items;
  AwsResult<Unit> paged = calls::query_pages(client, rds_service(), action, std::move(params), "Marker", "Marker",
                                             [&](pugi::xml_node page) {
                                               for (pugi::xml_node item : page.child(list_name).children(item_name)) {
                                                 items.push_back(parse(item));
                                               }
                                             });
  if (!paged.ok()) return fail(std::move(paged).error());
  return items;
}

SubnetGroup parse_subnet_group(pugi::xml_node node) {
  SubnetGroup group;
  group.name = text(node, "DBSubnetGroupName");
  group.description = text(node, "DBSubnetGroupDescription");
  group.vpc_id = text(node, "VpcId");
  group.status = text(node, "SubnetGroupStatus");
  group.arn = text(node, "DBSubnetGroupArn");
  for (pugi::xml_node subnet : node.child("Subnets").children("Subnet")) {
    group.subnet_ids.push_back(text(subnet, "SubnetIdentifier"));
  }
  return group;
}

DbInstance parse_db_instance(pugi::xml_node node) {
  DbInstance instance;
  instance.id = text(node, "DBInstanceIdentifier");
  instance.arn = text(node, "DBInstanceArn");
  instance.engine = text(node, "Engine");
  instance.engine_version = text(node, "EngineVersion");
  instance.instance_class = text(node, "DBInstanceClass");
  instance.status = text(node, "DBInstanceStatus");
  instance.master_username = text(node, "MasterUsername");
  instance.db_name = text(node, "DBName");
  instance.endpoint_address = text(node.child("Endpoint"), "Address");
  instance.endpoint_port = int_value(node.child("Endpoint"), "Port");
  instance.allocated_storage_gib = int_value(node, "AllocatedStorage");
  instance.publicly_accessible = bool_value(node, "PubliclyAccessible");
  instance.storage_encrypted = bool_value(node, "StorageEncrypted");
  instance.subnet_group_name = text(node.child("DBSubnetGroup"), "DBSubnetGroupName");
  for (pugi::xml_node group : node.child("VpcSecurityGroups").children("VpcSecurityGroupMembership")) {
    instance.security_group_ids.push_back(text(group, "VpcSecurityGroupId"));
  }
  instance.tags = parse_tags(node.child("TagList"));
  return instance;
}

DbSnapshot parse_db_snapshot(pugi::xml_node node) {
  DbSnapshot snapshot;
  snapshot.id = text(node, "DBSnapshotIdentifier");
  snapshot.instance_id = text(node, "DBInstanceIdentifier");
  snapshot.arn = text(node, "DBSnapshotArn");
  snapshot.status = text(node, "Status");
  snapshot.engine = text(node, "Engine");
  snapshot.snapshot_type = text(node, "SnapshotType");
  snapshot.encrypted = bool_value(node, "Encrypted");
  snapshot.tags = parse_tags(node.child("TagList"));
  return snapshot;
}

}  // namespace

AwsResult<SubnetGroup> create_subnet_group(AwsClient& client, const std::string& name, const std::string& description,
                                           const std::vector<std::string>& subnet_ids, const Tags& tags) {
  QueryParams params{{"DBSubnetGroupName", name}, {"DBSubnetGroupDescription", description}};
  append_list(params, "SubnetIds.SubnetIdentifier", subnet_ids);
  append_tags(params, tags);
  AwsResult<XmlResponse> response = send(client, "CreateDBSubnetGroup", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_subnet_group(response->result.child("DBSubnetGroup"));
}

AwsResult<std::vector<SubnetGroup>> describe_subnet_groups(AwsClient& client, const std::string& name) {
  QueryParams params;
  if (!name.empty()) params.emplace_back("DBSubnetGroupName", name);
  return describe_all<SubnetGroup>(client, "DescribeDBSubnetGroups", std::move(params), "DBSubnetGroups",
                                   "DBSubnetGroup", parse_subnet_group);
}

AwsResult<Unit> delete_subnet_group(AwsClient& client, const std::string& name) {
  return calls::query_status(client, rds_service(), "DeleteDBSubnetGroup", {{"DBSubnetGroupName", name}});
}

AwsResult<DbInstance> create_db_instance(AwsClient& client, const CreateDbInstanceRequest& request) {
  QueryParams params{{"DBInstanceIdentifier", request.id},
                     {"Engine", request.engine},
                     {"DBInstanceClass", request.instance_class},
                     {"AllocatedStorage", std::to_string(request.allocated_storage_gib)},
                     {"MasterUsername", request.master_username},
                     {"MasterUserPassword", request.master_password.reveal()},
                     {"PubliclyAccessible", "false"},
                     {"StorageEncrypted", "true"},
                     {"BackupRetentionPeriod", std::to_string(request.backup_retention_days)}};
  if (!request.engine_version.empty()) params.emplace_back("EngineVersion", request.engine_version);
  if (!request.db_name.empty()) params.emplace_back("DBName", request.db_name);
  if (!request.subnet_group_name.empty()) params.emplace_back("DBSubnetGroupName", request.subnet_group_name);
  append_list(params, "VpcSecurityGroupIds.VpcSecurityGroupId", request.security_group_ids);
  append_tags(params, request.tags);

  AwsResult<XmlResponse> response = send(client, "CreateDBInstance", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_db_instance(response->result.child("DBInstance"));
}

AwsResult<std::vector<DbInstance>> describe_db_instances(AwsClient& client, const std::string& id, int page_size) {
  QueryParams params;
  if (!id.empty()) params.emplace_back("DBInstanceIdentifier", id);
  if (page_size > 0) params.emplace_back("MaxRecords", std::to_string(page_size));
  return describe_all<DbInstance>(client, "DescribeDBInstances", std::move(params), "DBInstances", "DBInstance",
                                  parse_db_instance);
}

AwsResult<DbInstance> delete_db_instance(AwsClient& client, const std::string& id,
                                         const std::string& final_snapshot_id) {
  QueryParams params{{"DBInstanceIdentifier", id}};
  if (final_snapshot_id.empty()) {
    params.emplace_back("SkipFinalSnapshot", "true");
  } else {
    params.emplace_back("SkipFinalSnapshot", "false");
    params.emplace_back("FinalDBSnapshotIdentifier", final_snapshot_id);
  }
  AwsResult<XmlResponse> response = send(client, "DeleteDBInstance", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_db_instance(response->result.child("DBInstance"));
}

AwsResult<DbSnapshot> create_db_snapshot(AwsClient& client, const std::string& snapshot_id,
                                         const std::string& instance_id, const Tags& tags) {
  QueryParams params{{"DBSnapshotIdentifier", snapshot_id}, {"DBInstanceIdentifier", instance_id}};
  append_tags(params, tags);
  AwsResult<XmlResponse> response = send(client, "CreateDBSnapshot", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_db_snapshot(response->result.child("DBSnapshot"));
}

AwsResult<std::vector<DbSnapshot>> describe_db_snapshots(AwsClient& client, const std::string& instance_id,
                                                         const std::string& snapshot_id) {
  QueryParams params;
  if (!instance_id.empty()) params.emplace_back("DBInstanceIdentifier", instance_id);
  if (!snapshot_id.empty()) params.emplace_back("DBSnapshotIdentifier", snapshot_id);
  return describe_all<DbSnapshot>(client, "DescribeDBSnapshots", std::move(params), "DBSnapshots", "DBSnapshot",
                                  parse_db_snapshot);
}

AwsResult<Unit> delete_db_snapshot(AwsClient& client, const std::string& snapshot_id) {
  return calls::query_status(client, rds_service(), "DeleteDBSnapshot", {{"DBSnapshotIdentifier", snapshot_id}});
}

}  // namespace hivemind::aws::rds
