#pragma once

// Jerry the Janitor's eyes: every AWS resource that carries a deployment's
// tag, found without the state store, so that resources the state lost are
// still found and deleted.

#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"
#include "state/model.h"

namespace hivemind::infra {

struct DiscoveredResource {
  std::string kind;          // as kind_name() spells it, e.g. "ec2:vpc"
  std::string logical_name;  // from the hivemind:resource tag; made up from the id when missing
  std::string physical_id;
  std::string arn;
  std::string deployment_id;
  aws::Tags tags;
};

// Lists every resource tagged hivemind:deployment=<deployment_id>, or, with
// an empty id, every resource that carries the tag at all (for orphan
// listing). Uses the Resource Groups Tagging API where it covers the kind and
// describe calls for the rest (key pairs, SSM parameters, log groups, DB
// subnet groups, security groups, route tables). Terminated instances are
// left out.
aws::AwsResult<std::vector<DiscoveredResource>> discover(aws::AwsClient& client, const std::string& deployment_id);

// Turns discovered resources into state records that teardown() takes.
std::vector<state::Resource> as_state_resources(const std::vector<DiscoveredResource>& resources);

}  // namespace hivemind::infra
