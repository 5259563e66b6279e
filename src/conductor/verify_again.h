#pragma once

// Overwatch run again on a deployment that is already up, outside any
// deploy. `hivemind verify <id>` uses it to tell a user whether the app still
// responds. It runs the verify stage function that the deploy ran, with the
// same addresses, and stores the new results beside the old ones.

#include <string>
#include <vector>

#include "common/result.h"
#include "conductor/conductor.h"
#include "state/model.h"

namespace hivemind::conductor {

struct VerifyOutcome {
  state::Deployment deployment;
  std::vector<state::VerificationResult> results;  // this run's, in the order the checks ran
  Error failure;                                   // the verify stage's error; its code is empty when all passed

  bool passed() const { return failure.code.empty(); }
};

// Runs `setup.stages[verify]` for a deployment whose resources exist
// (deployed, or failed at a stage after provision), under the deployment's
// lock, and records a timeline event. The deployment's status is left as it
// is: a failed check is a finding, not a new state. Errors: unknown id, a
// deployment with nothing to check, a held lock, no verify stage.
Result<VerifyOutcome> verify_again(const ConductorSetup& setup, const std::string& deployment_id);

}  // namespace hivemind::conductor
