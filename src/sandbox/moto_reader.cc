#include "sandbox/moto_reader.h"

#include <string_view>

namespace hivemind::sandbox {
namespace {

using aws::AwsResult;
using aws::QueryParams;

std::string text_of(pugi::xml_node node, const char* name) { return node.child(name).text().as_string(); }

std::uint16_t port_of(pugi::xml_node node, const char* name) {
  return static_cast<std::uint16_t>(node.child(name).text().as_uint());
}

int int_of(pugi::xml_node node, const char* name, int fallback) {
  pugi::xml_node child = node.child(name);
  return child ? child.text().as_int() : fallback;
}

ListenerView parse_listener(pugi::xml_node member) {
  ListenerView listener;
  listener.port = port_of(member, "Port");
  listener.protocol = text_of(member, "Protocol");
  for (pugi::xml_node action : member.child("DefaultActions").children("member")) {
    if (text_of(action, "Type") == "forward") {
      listener.target_group_arn = text_of(action, "TargetGroupArn");
      break;
    }
  }
  return listener;
}

AwsResult<std::vector<ListenerView>> describe_listeners(aws::AwsClient& client, const std::string& arn) {
  auto response = client.query(aws::elbv2_service(), "DescribeListeners", {{"LoadBalancerArn", arn}});
  if (!response) return fail(std::move(response).error());
  std::vector<ListenerView> listeners;
  for (pugi::xml_node member : response->result.child("Listeners").children("member")) {
    listeners.push_back(parse_listener(member));
  }
  return listeners;
}

HealthCheckSpec parse_health_check(pugi::xml_node group) {
  HealthCheckSpec check;
  if (group.child("HealthCheckPath")) check.path = text_of(group, "HealthCheckPath");
  if (group.child("HealthCheckPort")) check.port = text_of(group, "HealthCheckPort");
  check.interval_seconds = int_of(group, "HealthCheckIntervalSeconds", check.interval_seconds);
  check.timeout_seconds = int_of(group, "HealthCheckTimeoutSeconds", check.timeout_seconds);
  check.healthy_threshold = int_of(group, "HealthyThresholdCount", check.healthy_threshold);
  check.unhealthy_threshold = int_of(group, "UnhealthyThresholdCount", check.unhealthy_threshold);
  std::string matcher = group.child("Matcher").child("HttpCode").text().as_string();
  if (!matcher.empty()) check.matcher = matcher;
  return check;
}

AwsResult<std::vector<TargetView>> describe_targets(aws::AwsClient& client, const std::string& arn) {
  auto response = client.query(aws::elbv2_service(), "DescribeTargetHealth", {{"TargetGroupArn", arn}});
  if (!response) return fail(std::move(response).error());
  std::vector<TargetView> targets;
  for (pugi::xml_node member : response->result.child("TargetHealthDescriptions").children("member")) {
    pugi::xml_node target = member.child("Target");
    targets.push_back(TargetView{text_of(target, "Id"), port_of(target, "Port")});
  }
  return targets;
}

void parse_reservation(pugi::xml_node reservation, std::vector<InstanceView>& instances) {
  for (pugi::xml_node item : reservation.child("instancesSet").children("item")) {
    instances.push_back(InstanceView{text_of(item, "instanceId"),
                                     item.child("instanceState").child("name").text().as_string(),
                                     text_of(item, "keyName")});
  }
}

DbInstanceView parse_db_instance(pugi::xml_node node) {
  DbInstanceView db;
  db.id = text_of(node, "DBInstanceIdentifier");
  db.engine = text_of(node, "Engine");
  db.status = text_of(node, "DBInstanceStatus");
  db.endpoint_address = node.child("Endpoint").child("Address").text().as_string();
  db.endpoint_port = static_cast<std::uint16_t>(node.child("Endpoint").child("Port").text().as_uint());
  db.master_username = text_of(node, "MasterUsername");
  db.db_name = text_of(node, "DBName");
  for (pugi::xml_node tag : node.child("TagList").children("Tag")) db.tags[text_of(tag, "Key")] = text_of(tag, "Value");
  return db;
}

}  // namespace

AwsResult<std::vector<InstanceView>> describe_instances(aws::AwsClient& client) {
  std::vector<InstanceView> instances;
  std::string next_token;
  do {
    QueryParams params;
    if (!next_token.empty()) params.emplace_back("NextToken", next_token);
    auto response = client.query(aws::ec2_service(), "DescribeInstances", params);
    if (!response) return fail(std::move(response).error());
    for (pugi::xml_node reservation : response->result.child("reservationSet").children("item")) {
      parse_reservation(reservation, instances);
    }
    next_token = text_of(response->result, "nextToken");
  } while (!next_token.empty());
  return instances;
}

AwsResult<std::string> describe_public_key(aws::AwsClient& client, const std::string& key_name) {
  auto response =
      client.query(aws::ec2_service(), "DescribeKeyPairs", {{"KeyName.1", key_name}, {"IncludePublicKey", "true"}});
  if (!response) return fail(std::move(response).error());
  return std::string(response->result.child("keySet").child("item").child("publicKey").text().as_string());
}

AwsResult<std::vector<LoadBalancerView>> describe_load_balancers(aws::AwsClient& client) {
  auto response = client.query(aws::elbv2_service(), "DescribeLoadBalancers", {});
  if (!response) return fail(std::move(response).error());
  std::vector<LoadBalancerView> balancers;
  for (pugi::xml_node member : response->result.child("LoadBalancers").children("member")) {
    LoadBalancerView balancer{
        text_of(member, "LoadBalancerArn"), text_of(member, "LoadBalancerName"), text_of(member, "DNSName"), {}};
    auto listeners = describe_listeners(client, balancer.arn);
    if (!listeners) return fail(std::move(listeners).error());
    balancer.listeners = std::move(listeners).value();
    balancers.push_back(std::move(balancer));
  }
  return balancers;
}

AwsResult<std::vector<TargetGroupView>> describe_target_groups(aws::AwsClient& client) {
  auto response = client.query(aws::elbv2_service(), "DescribeTargetGroups", {});
  if (!response) return fail(std::move(response).error());
  std::vector<TargetGroupView> groups;
  for (pugi::xml_node member : response->result.child("TargetGroups").children("member")) {
    TargetGroupView group{text_of(member, "TargetGroupArn"),
                          text_of(member, "TargetGroupName"),
                          port_of(member, "Port"),
                          parse_health_check(member),
                          {}};
    auto targets = describe_targets(client, group.arn);
    if (!targets) return fail(std::move(targets).error());
    group.targets = std::move(targets).value();
    groups.push_back(std::move(group));
  }
  return groups;
}

AwsResult<std::vector<DbInstanceView>> describe_db_instances(aws::AwsClient& client) {
  auto response = client.query(aws::rds_service(), "DescribeDBInstances", {});
  if (!response) return fail(std::move(response).error());
  std::vector<DbInstanceView> instances;
  for (pugi::xml_node node : response->result.child("DBInstances").children("DBInstance")) {
    instances.push_back(parse_db_instance(node));
  }
  return instances;
}

AwsResult<std::string> read_secure_parameter(aws::AwsClient& client, const std::string& name) {
  auto response = client.json(aws::ssm_service(), "GetParameter", {{"Name", name}, {"WithDecryption", true}});
  if (!response) return fail(std::move(response).error());
  return response->body["Parameter"].value("Value", std::string());
}

}  // namespace hivemind::sandbox
