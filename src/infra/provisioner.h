#pragma once

// Peter Provisioner's engine: walks a deployment's plan forward to create its
// AWS resources and backward to delete them, independent resources in
// parallel, recording every step in state before and after its AWS call.
//
// Crash safety: the intent (with the client token that also goes into the
// resource's hivemind:token tag) is written before each create call, and the
// physical id after it. A run killed between the two leaves an intent; the
// next run finds the resource by its token tag or its unique name and adopts
// it instead of creating a second one.

#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "graph/walker.h"
#include "infra/context.h"
#include "state/model.h"

namespace hivemind::infra {

struct ProvisionResult {
  graph::WalkReport walk;
  std::vector<ResourceFailure> failures;  // with the AWS action and request id of each

  bool ok() const { return walk.ok(); }
};

// Creates every resource of the context's plan that is not recorded as
// created, reusing recorded ones and adopting ones an earlier run created.
// Returns an error only when the walk could not start (an invalid plan).
Result<ProvisionResult> provision(InfraContext& context);

struct TeardownResult {
  graph::WalkReport walk;
  std::vector<ResourceFailure> failures;
  std::vector<state::Resource> deleted;
  std::vector<state::Resource> remaining;  // not deleted, with the error of each in `failures`
  std::set<std::string> already_gone;      // logical names in `deleted` that AWS did not find

  bool ok() const { return remaining.empty(); }
};

// Deletes `resources` in reverse dependency order, independent ones in
// parallel, recording deleting/deleted/delete_failed for each. A resource not
// found in AWS counts as deleted.
Result<TeardownResult> teardown(InfraContext& context, const std::vector<state::Resource>& resources);

// Deletes every resource of the deployment that state does not record as
// deleted.
Result<TeardownResult> teardown_recorded(InfraContext& context);

// The order dependencies of `resources` for teardown: logical names of the
// plan first, then the fixed rules between kinds for resources the plan does
// not name (found by tag). A depends on B when A must be deleted before B.
graph::Graph teardown_graph(const std::vector<state::Resource>& resources);

}  // namespace hivemind::infra
