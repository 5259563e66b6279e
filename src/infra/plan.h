#pragma once

// The plan of a deployment: every AWS resource it needs, with its
// dependencies, its properties and its estimated monthly cost. Building the
// plan makes no AWS call; the provisioner walks it forward to create and
// backward to delete, and --what-if prints it.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "infra/pricing.h"

namespace hivemind::infra {

enum class ResourceKind {
  kVpc,
  kInternetGateway,  // created and attached to the VPC
  kSubnet,
  kRouteTable,  // with a default route to the internet gateway and its subnet associations
  kSecurityGroup,
  kKeyPair,
  kLogGroup,
  kDbPassword,  // SSM SecureString parameter holding the database master password
  kDbSubnetGroup,
  kDbInstance,
  kInstance,
  kLoadBalancer,
  kTargetGroup,
  kListener,
  // Created by the monitor stage, outside the plan; listed here so that
  // rollback, destroy and discovery delete and find them.
  kDashboard,
  kAlarm,
};

// "ec2:vpc", "rds:db-instance", ... as stored in state and shown to users.
const char* kind_name(ResourceKind kind);
std::optional<ResourceKind> parse_kind_name(const std::string& name);

struct ResourceSpec {
  std::string name;  // logical name, unique in the plan: "vpc", "subnet_public_a", ...
  ResourceKind kind = ResourceKind::kVpc;
  std::vector<std::string> depends_on;  // logical names
  std::string aws_name;                 // Name tag, or the resource's own name where AWS has one
  nlohmann::json properties;            // kind-specific settings, see plan.cc
  MonthlyEstimate cost;
};

// Health check settings of the target group.
struct HealthCheckSettings {
  std::string path = "/";
  int interval_seconds = 15;
  int timeout_seconds = 5;
  int healthy_threshold = 2;
  int unhealthy_threshold = 3;
  std::string matcher = "200-399";
};

struct PlanInputs {
  std::string deployment_id;
  std::string app_name;
  std::string region;
  bool web_service = true;
  int app_port = 0;                     // 0 for a worker with no port
  std::optional<std::string> database;  // "postgres" or "mysql"
  std::string runtime;                  // "node", "python", "go", ... from the analysis; installed by user data
  std::string runtime_version;          // as the analysis found it, e.g. ">=20"; empty: the AMI's default
  std::string instance_type = "t3.micro";
  std::string ami;  // empty: the Amazon Linux 2023 public SSM parameter
  int root_volume_gib = 8;
  std::string db_instance_class = "db.t3.micro";
  int db_storage_gib = 20;
  std::string certificate_arn;  // empty: HTTP only
  std::string ssh_cidr;         // the deploying machine's address as a /32
  int log_retention_days = 14;
  HealthCheckSettings health_check;
  std::map<std::string, std::string> user_tags;  // from --tag k=v
};

struct Plan {
  std::vector<ResourceSpec> resources;  // in a valid creation order

  const ResourceSpec* find(const std::string& name) const;
  double monthly_usd() const;
};

inline constexpr const char* kDeploymentTagKey = "hivemind:deployment";
inline constexpr const char* kAppTagKey = "hivemind:app";
inline constexpr const char* kResourceTagKey = "hivemind:resource";  // the logical name

// Checks the inputs and returns the plan. Errors: a web service with no port,
// an invalid SSH CIDR, a database engine other than postgres or mysql, user
// tags that use the reserved hivemind: prefix or break AWS's tag limits.
Result<Plan> build_plan(const PlanInputs& inputs);

// Tags that every resource of the deployment carries: the deployment and app
// tags, Name, the logical name, then the user's tags.
std::map<std::string, std::string> resource_tags(const PlanInputs& inputs, const ResourceSpec& resource);

// Returns a name of at most `max_length` characters made of the deployment id
// and a suffix, keeping the id's unique tail when it has to shorten it.
// Load balancer and target group names allow 32 characters.
std::string bounded_name(const std::string& deployment_id, const std::string& suffix, size_t max_length);

}  // namespace hivemind::infra
