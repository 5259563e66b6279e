#pragma once

// Typed RDS calls: DB subnet groups, DB instances (PostgreSQL or MySQL,
// private and encrypted) and DB snapshots. Create calls apply tags in the
// call itself. Describe calls follow Marker to the last page.

#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"
#include "common/secret.h"

namespace hivemind::aws::rds {

struct SubnetGroup {
  std::string name;
  std::string description;
  std::string vpc_id;
  std::string status;
  std::vector<std::string> subnet_ids;
  std::string arn;
};

struct DbInstance {
  std::string id;  // DBInstanceIdentifier
  std::string arn;
  std::string engine;  // "postgres" or "mysql"
  std::string engine_version;
  std::string instance_class;
  std::string status;  // "creating", "available", "deleting", ...
  std::string master_username;
  std::string db_name;
  std::string endpoint_address;  // empty until the instance has one
  int endpoint_port = 0;
  int allocated_storage_gib = 0;
  bool publicly_accessible = false;
  bool storage_encrypted = false;
  std::string subnet_group_name;
  std::vector<std::string> security_group_ids;
  Tags tags;
};

struct CreateDbInstanceRequest {
  std::string id;
  std::string engine = "postgres";
  std::string engine_version;  // empty: the engine's default
  std::string instance_class = "db.t3.micro";
  int allocated_storage_gib = 20;
  std::string db_name;
  std::string master_username;
  Secret master_password;  // sent only in the request body, never logged
  std::string subnet_group_name;
  std::vector<std::string> security_group_ids;
  int backup_retention_days = 1;
  Tags tags;
};

struct DbSnapshot {
  std::string id;
  std::string instance_id;
  std::string arn;
  std::string status;  // "creating", "available", ...
  std::string engine;
  std::string snapshot_type;  // "manual" or "automated"
  bool encrypted = false;
  Tags tags;
};

// DB subnet groups
AwsResult<SubnetGroup> create_subnet_group(AwsClient& client, const std::string& name, const std::string& description,
                                           const std::vector<std::string>& subnet_ids, const Tags& tags);
// Lists one group by name, or every group when `name` is empty.
AwsResult<std::vector<SubnetGroup>> describe_subnet_groups(AwsClient& client, const std::string& name = {});
AwsResult<Unit> delete_subnet_group(AwsClient& client, const std::string& name);

// DB instances. Every instance is created with PubliclyAccessible=false and
// StorageEncrypted=true.
AwsResult<DbInstance> create_db_instance(AwsClient& client, const CreateDbInstanceRequest& request);
// Lists one instance by id, or every instance when `id` is empty.
// `page_size` 0 lets AWS choose (otherwise MaxRecords, 20 to 100).
AwsResult<std::vector<DbInstance>> describe_db_instances(AwsClient& client, const std::string& id = {},
                                                         int page_size = 0);
// Deletes an instance after taking the final snapshot
// `final_snapshot_id`, or with no snapshot when it is empty.
AwsResult<DbInstance> delete_db_instance(AwsClient& client, const std::string& id,
                                         const std::string& final_snapshot_id);

// DB snapshots
AwsResult<DbSnapshot> create_db_snapshot(AwsClient& client, const std::string& snapshot_id,
                                         const std::string& instance_id, const Tags& tags);
// Lists the snapshots of one instance, one snapshot, or every snapshot
// when both are empty.
AwsResult<std::vector<DbSnapshot>> describe_db_snapshots(AwsClient& client, const std::string& instance_id,
                                                         const std::string& snapshot_id = {});
AwsResult<Unit> delete_db_snapshot(AwsClient& client, const std::string& snapshot_id);

}  // namespace hivemind::aws::rds
