#pragma once

// Deployments that a killed command left behind. A deploy or retry that dies
// (SIGKILL, a crash, a lost machine) leaves its deployment `deploying`, with
// the stage it was in still recorded as running. Nothing else changes that
// record, because the command that would have is gone.

#include <string>

#include "common/result.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::conductor {

// Turns a `deploying` deployment into a failed one, so that `hivemind retry`
// resumes it. The stage run still marked running is finished as cancelled,
// and the deployment records a failure at that stage. When no run is marked
// running, the failure is at the stage after the last one that succeeded.
// Returns true when it changed the deployment (which `deployment` then
// reflects), and false for a deployment in any other status.
// REQUIRES: the caller holds the deployment's lock. Holding it proves that
// the command that set `deploying` has exited.
Result<bool> mark_interrupted(state::Store& store, state::Deployment& deployment);

// The command to run on a deployment that retry rejects as not failed. A
// rollback or destroy that stopped halfway is finished by running it again.
std::string next_step_instead_of_retry(const state::Deployment& deployment);

}  // namespace hivemind::conductor
