#pragma once

// Typed IAM call for `hivemind doctor`: whether a principal's policies allow
// a list of actions. IAM is global: on AWS it is signed for us-east-1 and
// sent to https://iam.amazonaws.com.

#include <string>
#include <vector>

#include "aws/client.h"

namespace hivemind::aws {

// IAM's query-protocol API (2010-05-08). Declared here rather than beside
// the other specs in client.h because only the doctor uses it.
const ServiceSpec& iam_service();

namespace iam {

// The global endpoint of IAM in the aws partition.
inline constexpr const char* kGlobalEndpoint = "https://iam.amazonaws.com";

struct ActionDecision {
  std::string action;    // "ec2:RunInstances"
  std::string decision;  // "allowed", "explicitDeny" or "implicitDeny"

  bool allowed() const { return decision == "allowed"; }
};

// Evaluates the identity policies of the user or role `principal_arn`
// against every action, on all resources ("*"). Sends the actions in chunks
// and follows Marker to the last page.
AwsResult<std::vector<ActionDecision>> simulate_principal_policy(AwsClient& client, const std::string& principal_arn,
                                                                 const std::vector<std::string>& actions);

// Turns the ARN that STS GetCallerIdentity returns into the principal ARN
// that SimulatePrincipalPolicy accepts: an assumed-role session
// (arn:aws:sts::1:assumed-role/Name/session) becomes its role
// (arn:aws:iam::1:role/Name). Other ARNs are returned unchanged.
// NOTE: a session ARN drops the role's path (/service-role/...), so a role
// with a path comes back wrong. Simulating it then fails, and the doctor falls
// back to probe calls.
std::string principal_from_caller_arn(const std::string& caller_arn);

}  // namespace iam
}  // namespace hivemind::aws
