#pragma once

// Reads what the sandbox mirrors from moto: instances and their key pairs,
// ELBv2 load balancers with listeners, target groups and registered targets,
// and RDS DB instances with their master passwords. Each function is one or
// a few AWS calls through AwsClient, the same client HiveMind uses for AWS.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aws/client.h"
#include "sandbox/haproxy_config.h"

namespace hivemind::sandbox {

struct InstanceView {
  std::string instance_id;
  std::string state;  // "pending", "running", "terminated", ...
  std::string key_name;
};

struct ListenerView {
  std::uint16_t port = 0;
  std::string protocol;
  std::string target_group_arn;  // of the default forward action; empty for other actions
};

struct LoadBalancerView {
  std::string arn;
  std::string name;
  std::string dns_name;
  std::vector<ListenerView> listeners;
};

struct TargetView {
  std::string instance_id;
  std::uint16_t port = 0;
};

struct TargetGroupView {
  std::string arn;
  std::string name;
  std::uint16_t port = 0;
  HealthCheckSpec health_check;
  std::vector<TargetView> targets;
};

struct DbInstanceView {
  std::string id;
  std::string engine;  // "postgres", "mysql", "mariadb", ...
  std::string status;
  std::string endpoint_address;
  std::uint16_t endpoint_port = 0;
  std::string master_username;
  std::string db_name;  // empty: no initial database requested
  std::map<std::string, std::string> tags;
};

// The DB instance tag whose value names the SSM SecureString parameter that
// holds the master password. moto returns the password in no API call, and
// HiveMind stores it there when it creates the instance.
inline constexpr const char* kPasswordParameterTag = "hivemind:password-parameter";

aws::AwsResult<std::vector<InstanceView>> describe_instances(aws::AwsClient& client);
// Returns the OpenSSH public key line of a key pair (DescribeKeyPairs with
// IncludePublicKey, which moto 5.2.1 fills in).
aws::AwsResult<std::string> describe_public_key(aws::AwsClient& client, const std::string& key_name);

aws::AwsResult<std::vector<LoadBalancerView>> describe_load_balancers(aws::AwsClient& client);
aws::AwsResult<std::vector<TargetGroupView>> describe_target_groups(aws::AwsClient& client);

aws::AwsResult<std::vector<DbInstanceView>> describe_db_instances(aws::AwsClient& client);
// Reads a SecureString parameter, decrypted.
aws::AwsResult<std::string> read_secure_parameter(aws::AwsClient& client, const std::string& name);

}  // namespace hivemind::sandbox
