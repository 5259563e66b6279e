#pragma once

// What the provisioner and the teardown do for each kind of resource: find
// one that an earlier run created, create one, finish and wait for it, and
// delete one. Each function makes the AWS calls of one resource only.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/call_support.h"
#include "common/result.h"
#include "infra/context.h"
#include "infra/plan.h"
#include "state/model.h"

namespace hivemind::infra {

struct CreatedResource {
  std::string physical_id;  // VPC id, instance id, load balancer ARN, parameter name, ...
  std::string arn;          // empty where AWS gives none
  nlohmann::json attributes = nlohmann::json::object();
};

// Looks in AWS for the resource that an earlier run created for `spec`: by
// the hivemind:token tag that carries `token`, or by the resource's name
// where AWS makes names unique. Returns nothing when there is none.
Result<std::optional<CreatedResource>> find_existing(InfraContext& context, const ResourceSpec& spec,
                                                     const std::string& token);

// Deletes every resource carrying `token` except `keep_id`. A create whose
// response was lost and that the client sent again can make two resources
// where AWS gives the kind no unique name and ignores or lacks a client
// token (VPCs, internet gateways; route tables, instances, load balancers
// and target groups on emulators that ignore ClientToken or names). Returns
// how many it deleted.
Result<int> remove_duplicates(InfraContext& context, const ResourceSpec& spec, const std::string& token,
                              const std::string& keep_id);

// True when a create failed because the resource exists already, as happens
// when a create whose response was lost is sent again.
bool is_already_exists(const Error& error);

// Sends the create call, with every tag in the call itself.
Result<CreatedResource> create_resource(InfraContext& context, const ResourceSpec& spec, const std::string& token);

// Applies the settings that follow creation (attachments, routes, rules,
// retention) and waits until the resource is ready. Safe to run again on a
// resource that has them already.
Status complete_resource(InfraContext& context, const ResourceSpec& spec, CreatedResource& created);

// Deletes a recorded resource and waits until it is gone. A resource that is
// not found counts as deleted. A DependencyViolation or in-use error is
// retried, bounded, while its blocker goes away.
// When `already_gone` is given, it is set to true when AWS returned not found,
// because the resource was gone before this call.
Status delete_resource(InfraContext& context, const state::Resource& resource, bool* already_gone = nullptr);

// The tags of `spec` as AWS takes them, with the token tag.
aws::Tags tags_for(const InfraContext& context, const ResourceSpec& spec, const std::string& token);

}  // namespace hivemind::infra
