#include "conductor/stages.h"

namespace hivemind::conductor {

std::map<state::StageName, StageFunction> available_stages() {
  std::map<state::StageName, StageFunction> stages;
  // Each agent adds its line here when its stage_<name>.cc exists, e.g.
  // stages[state::StageName::deploy] = run_deploy;
  stages[state::StageName::deploy] = run_deploy;
  stages[state::StageName::monitor] = run_monitor;
  stages[state::StageName::report] = run_report;
  stages[state::StageName::secure] = run_secure;
  stages[state::StageName::verify] = run_verify;
  return stages;
}

}  // namespace hivemind::conductor
