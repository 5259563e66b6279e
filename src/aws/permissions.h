#pragma once

// The IAM permissions HiveMind needs, grouped by service, and the check of
// each against the caller's credentials for `hivemind doctor`.
//
// Two ways to check, in order:
//  1. iam:SimulatePrincipalPolicy for the caller: exact, sends no call to any
//     other service, and works only where the caller may simulate its own
//     policies (AWS; moto 5.2.1 does not implement it).
//  2. Probe calls, one per action: EC2 actions are sent with DryRun=true, the
//     others as harmless calls (reads, or writes aimed at a resource that
//     does not exist or with input AWS rejects). An access-denied answer
//     means the permission is missing; any other answer means the request got
//     past authorization.
// Thread safety: the functions are as thread safe as the clients passed in.

#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"

namespace hivemind::aws::permissions {

// The actions of one service that the typed calls send, as IAM names them.
struct ServicePermissions {
  std::string label;  // "EC2", "ELBv2", "RDS", "CloudWatch Logs", ...
  const ServiceSpec* service;
  std::vector<std::string> actions;  // "ec2:RunInstances", ...
};

// Every permission HiveMind needs. Tag-on-create needs the tagging action of
// each service too (ec2:CreateTags, elasticloadbalancing:AddTags, ...).
const std::vector<ServicePermissions>& required_permissions();

enum class Method {
  kSimulation,  // iam:SimulatePrincipalPolicy
  kProbe,       // DryRun calls for EC2, harmless calls for the rest
};

enum class Verdict {
  kAllowed,
  kMissing,
  kUnknown,  // the check itself failed (no response, server error, unimplemented)
};

struct ActionCheck {
  std::string label;   // service label from required_permissions()
  std::string action;  // "ec2:RunInstances"
  Verdict verdict = Verdict::kUnknown;
  // How the verdict was reached: the simulation's decision, or the probe's
  // outcome such as "DryRunOperation" or "denied: AccessDenied".
  std::string detail;
};

struct Report {
  Method method = Method::kProbe;
  // Why simulation was not used, when method is kProbe.
  std::string fallback_reason;
  std::vector<ActionCheck> checks;

  int count(Verdict verdict) const;
};

// What a probe needs to build plausible requests: ARNs of resources that do
// not exist are made in the caller's account and region.
struct ProbeContext {
  std::string region;
  std::string account;
};

// Checks every required permission. `iam_client` signs for IAM's region and
// sends to IAM's endpoint; it may be the same client as `client` where one
// endpoint serves every service (moto). `caller_arn` is the ARN that STS
// GetCallerIdentity returns.
Report check_permissions(AwsClient& client, AwsClient& iam_client, const std::string& caller_arn,
                         const ProbeContext& context);

// Checks every required permission with probe calls only.
Report probe_permissions(AwsClient& client, const ProbeContext& context);

// Classifies the outcome of one probe call: denied codes are kMissing,
// DryRunOperation and other client errors are kAllowed, server errors and
// failures without a response are kUnknown. Sets `detail`.
Verdict classify_probe(const AwsError* error, std::string& detail);

}  // namespace hivemind::aws::permissions
