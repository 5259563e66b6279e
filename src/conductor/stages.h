#pragma once

// The stages after provision, each run by its agent, and the table the CLI
// hands to the Conductor. Each stage lives in its own stage_<name>.cc file.

#include <map>

#include "common/result.h"
#include "conductor/stage_context.h"
#include "state/model.h"

namespace hivemind::conductor {

// Returns every stage function this build has, by stage name. A stage
// missing here makes the Conductor fail the deployment with a clear error.
std::map<state::StageName, StageFunction> available_stages();

}  // namespace hivemind::conductor
