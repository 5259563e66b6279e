#pragma once

// The deployment state model: plain data with no behaviour beyond string
// conversions. The store (store.h) persists these structs, and nothing
// here depends on SQLite or on AWS calls.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hivemind::state {

using TimePoint = std::chrono::system_clock::time_point;

// Tags that HiveMind puts on every AWS resource in its create call, so that a
// resumed run or `hivemind destroy` finds resources that the state may have
// missed: the deployment id, and the resource's client token.
inline constexpr std::string_view kDeploymentTagKey = "hivemind:deployment";
inline constexpr std::string_view kTokenTagKey = "hivemind:token";

enum class DeploymentStatus {
  pending,
  deploying,
  deployed,
  failed,
  rolling_back,
  rolled_back,
  destroying,
  destroyed,
  updating,
};

// The endpoint of a deployment's AWS calls: real AWS, or the local sandbox (moto).
enum class EndpointKind { aws, sandbox };

enum class StageName { analyze, build, provision, deploy, secure, verify, monitor, report };

enum class StageOutcome { running, succeeded, failed, cancelled };

// Lifecycle of one AWS resource. `creating` is written before the create call
// and `deleting` before the delete call, so that a killed run leaves a record
// of every call that may have reached AWS.
enum class ResourceStatus { creating, created, create_failed, deleting, deleted, delete_failed };

// The last failure, for `hivemind status` and for the retry decision.
struct FailureInfo {
  std::string agent;           // e.g. "provisioner"
  std::string action;          // e.g. "ec2:CreateVpc"
  std::string aws_request_id;  // empty when the failure did not come from AWS
  std::string message;
};

struct Deployment {
  std::string id;  // "hm-<app>-<6 base32 chars>", see make_deployment_id()
  std::string app_name;
  std::string description;
  std::string source;   // repository path or URL
  std::string version;  // commit hash, "-dirty" suffix when uncommitted changes were built
  std::string region;
  EndpointKind endpoint_kind = EndpointKind::aws;
  DeploymentStatus status = DeploymentStatus::pending;
  std::optional<StageName> failed_stage;
  std::optional<FailureInfo> failure;
  int retry_count = 0;
  int max_retries = 3;
  TimePoint created_at{};
  TimePoint updated_at{};  // set by the store on every write
  std::string options_json = "{}";
};

struct StageRun {
  std::int64_t id = 0;  // assigned by the store
  std::string deployment_id;
  StageName stage = StageName::analyze;
  int attempt = 1;
  TimePoint started_at{};
  std::optional<TimePoint> finished_at;
  StageOutcome outcome = StageOutcome::running;
  std::string error;

  // Returns finished_at - started_at, or zero while the stage runs.
  std::chrono::milliseconds duration() const;
};

// The record written before a create call.
struct ResourceIntent {
  std::string deployment_id;
  std::string logical_name;  // e.g. "vpc", "subnet_public_a"; unique within a deployment
  std::string kind;          // e.g. "ec2:vpc", "rds:db-instance"
  // Idempotency token sent as ClientToken and as the kTokenTagKey tag value.
  // The store generates one when this is empty.
  std::string client_token;
  double estimated_monthly_cost_usd = 0.0;
};

struct Resource {
  std::int64_t id = 0;
  std::string deployment_id;
  std::string logical_name;
  std::string kind;
  ResourceStatus status = ResourceStatus::creating;
  std::string client_token;
  std::string physical_id;  // e.g. "vpc-0abc..."; empty until created
  std::string arn;          // empty for resources that have none
  std::string attributes_json = "{}";
  std::string error;  // the last create or delete error
  double estimated_monthly_cost_usd = 0.0;
  std::int64_t creation_order = 0;  // increases with each intent within the store
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct VerificationResult {
  std::int64_t id = 0;
  std::string deployment_id;
  std::string check;  // e.g. "http_health", "ssh_password_login_disabled"
  bool passed = false;
  std::string detail;
  TimePoint checked_at{};
};

// A check that could not run (its input was missing) is stored with passed
// set and a detail that starts "not_checked:", as the secure stage writes it.
inline bool was_checked(const VerificationResult& result) { return !result.detail.starts_with("not_checked:"); }

// "pass", "FAIL" or "not checked", as status and the report show a row.
inline std::string_view verification_label(const VerificationResult& result) {
  if (!was_checked(result)) return "not checked";
  return result.passed ? "pass" : "FAIL";
}

// One line of the deployment's timeline.
struct Event {
  std::int64_t id = 0;
  std::string deployment_id;
  TimePoint time{};
  std::string agent;
  std::string action;
  std::string outcome;  // e.g. "started", "succeeded", "failed"
  std::string detail;
};

// An SSH host key accepted on first use for one instance.
struct HostKey {
  std::string deployment_id;
  std::string instance_id;
  std::string fingerprint;  // "SHA256:..."
  TimePoint first_seen{};
};

std::string_view to_string(DeploymentStatus status);
std::string_view to_string(EndpointKind kind);
std::string_view to_string(StageName stage);
std::string_view to_string(StageOutcome outcome);
std::string_view to_string(ResourceStatus status);

// Each parse function returns nullopt for text that names no value.
std::optional<DeploymentStatus> parse_deployment_status(std::string_view text);
std::optional<EndpointKind> parse_endpoint_kind(std::string_view text);
std::optional<StageName> parse_stage_name(std::string_view text);
std::optional<StageOutcome> parse_stage_outcome(std::string_view text);
std::optional<ResourceStatus> parse_resource_status(std::string_view text);

// Makes a deployment id "hm-<app>-<suffix>": <app> is the app name lowercased
// with every run of characters outside [a-z0-9] turned into one '-' and cut to
// 20 characters; <suffix> is 6 random characters of the RFC 4648 base32
// alphabet in lowercase (a-z, 2-7), about 30 bits. The id is valid as an AWS
// tag value and as a folder name.
std::string make_deployment_id(std::string_view app_name);

// Returns true when `id` has the shape that make_deployment_id() produces.
bool is_valid_deployment_id(std::string_view id);

}  // namespace hivemind::state
