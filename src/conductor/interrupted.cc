#include "conductor/interrupted.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "common/log.h"
#include "conductor/conductor.h"

namespace hivemind::conductor {
namespace {

using state::StageName;

// The stage to resume at: the one still marked running, else the one after
// the last that succeeded, else the first.
StageName interrupted_stage(const std::vector<state::StageRun>& runs, std::optional<std::int64_t>& running_run) {
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    if (run->outcome == state::StageOutcome::running) {
      running_run = run->id;
      return run->stage;
    }
  }
  std::optional<StageName> last_succeeded;
  for (const state::StageRun& run : runs) {
    if (run.outcome == state::StageOutcome::succeeded) last_succeeded = run.stage;
  }
  if (!last_succeeded) return StageName::analyze;
  if (*last_succeeded == StageName::report) return StageName::report;
  return static_cast<StageName>(static_cast<int>(*last_succeeded) + 1);
}

}  // namespace

Result<bool> mark_interrupted(state::Store& store, state::Deployment& deployment) {
  if (deployment.status != state::DeploymentStatus::deploying) return false;

  Result<std::vector<state::StageRun>> runs = store.stage_runs(deployment.id);
  if (!runs) return fail(runs.error());
  std::optional<std::int64_t> running_run;
  const StageName stage = interrupted_stage(*runs, running_run);
  const std::string message = fmt::format(
      "The command running the {} stage stopped before the stage finished (killed, or its machine went "
      "down).",
      state::to_string(stage));

  const auto now = std::chrono::system_clock::now();
  if (running_run) {
    Status finished = store.finish_stage(*running_run, state::StageOutcome::cancelled, now, message);
    if (!finished) return fail(finished.error());
  }
  Status recorded = store.record_failure(deployment.id, stage, state::FailureInfo{agent_of(stage), "", "", message});
  if (!recorded) return fail(recorded.error());
  log::get("conductor")
      ->warn("{} was left deploying by a command that stopped; recorded as failed at {}", deployment.id,
             state::to_string(stage));

  Result<state::Deployment> reloaded = store.find_deployment(deployment.id);
  if (!reloaded) return fail(reloaded.error());
  deployment = *reloaded;
  return true;
}

std::string next_step_instead_of_retry(const state::Deployment& deployment) {
  switch (deployment.status) {
    case state::DeploymentStatus::rolled_back:
      return "Its resources were cleaned up: deploy again with `hivemind deploy`.";
    case state::DeploymentStatus::rolling_back:
      return fmt::format("A rollback of it stopped before it finished. Finish it with `hivemind rollback {} --yes`.",
                         deployment.id);
    case state::DeploymentStatus::destroying:
      return fmt::format("A destroy of it stopped before it finished. Finish it with `hivemind destroy {} --yes`.",
                         deployment.id);
    default:
      return fmt::format("Run `hivemind status {}` to see where it stands.", deployment.id);
  }
}

}  // namespace hivemind::conductor
