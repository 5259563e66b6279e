#include "conductor/verify_again.h"

#include <fmt/format.h>

#include <memory>

#include "aws/curl_transport.h"
#include "common/log.h"
#include "conductor/core_stages.h"
#include "state/paths.h"
#include "state/store.h"

namespace hivemind::conductor {
namespace {

using state::DeploymentStatus;
using state::StageName;

constexpr const char* kAgent = "Overwatch";

// A deployment has something to check once provisioning made its resources
// and until a teardown starts.
bool has_running_resources(const state::Deployment& deployment) {
  if (deployment.status == DeploymentStatus::deployed || deployment.status == DeploymentStatus::updating) return true;
  return deployment.status == DeploymentStatus::failed && deployment.failed_stage &&
         *deployment.failed_stage != StageName::analyze && *deployment.failed_stage != StageName::build &&
         *deployment.failed_stage != StageName::provision;
}

Result<std::optional<infra::PlanInputs>> stored_plan_inputs(const state::Store& store, const std::string& id) {
  Result<std::optional<std::string>> stored = store.attribute(id, "plan_inputs");
  if (!stored) return fail(stored.error());
  if (!stored->has_value()) return std::optional<infra::PlanInputs>();
  Result<infra::PlanInputs> inputs = plan_inputs_from_json(nlohmann::json::parse(**stored, nullptr, false));
  if (!inputs) return fail(inputs.error());
  return std::optional<infra::PlanInputs>(*inputs);
}

std::int64_t last_verification_id(const state::Store& store, const std::string& id) {
  auto rows = store.verifications(id);
  if (!rows || rows->empty()) return 0;
  return rows->back().id;
}

}  // namespace

Result<VerifyOutcome> verify_again(const ConductorSetup& setup, const std::string& deployment_id) {
  if (!state::is_valid_deployment_id(deployment_id)) {
    return fail(make_error("conductor.invalid_id", fmt::format("\"{}\" is not a deployment id.", deployment_id),
                           "Run `hivemind list` to see the deployments and their ids."));
  }
  auto stage = setup.stages.find(StageName::verify);
  if (stage == setup.stages.end() || !stage->second) {
    return fail(
        make_error("conductor.stage_unavailable", "The verify stage (Overwatch) is not available in this build."));
  }

  state::StoreOptions store_options;
  store_options.state_dir = setup.state_dir;
  Result<std::unique_ptr<state::Store>> store = state::Store::open(store_options);
  if (!store) return fail(store.error());
  Result<state::Deployment> deployment = (*store)->find_deployment(deployment_id);
  if (!deployment) return fail(deployment.error());
  if (!has_running_resources(*deployment)) {
    return fail(make_error("conductor.nothing_to_verify",
                           fmt::format("Deployment {} is {}, so it has no running app to check.", deployment_id,
                                       state::to_string(deployment->status)),
                           fmt::format("Run `hivemind status {}` to see where it stands.", deployment_id)));
  }
  Result<DeployOptions> options = deploy_options_from_json(deployment->options_json);
  if (!options) return fail(options.error());
  Result<std::optional<infra::PlanInputs>> inputs = stored_plan_inputs(**store, deployment_id);
  if (!inputs) return fail(inputs.error());
  Result<state::DeploymentPaths> paths = state::ensure_deployment_dirs(setup.state_dir, deployment_id);
  if (!paths) return fail(paths.error());
  Result<state::DeploymentLock> lock = take_lock(setup, deployment_id);
  if (!lock) return fail(lock.error());

  std::shared_ptr<aws::HttpTransport> transport = setup.transport;
  if (!transport) transport = std::make_shared<aws::CurlTransport>();
  aws::AwsClient client(setup.client_config, transport);

  StageContext context;
  context.deployment = *deployment;
  context.options = *options;
  context.target = setup.target;
  context.state_dir = setup.state_dir;
  context.paths = *paths;
  context.store = store->get();
  context.client = &client;
  context.on_event = setup.on_event;
  context.plan_inputs = *inputs;

  std::int64_t before = last_verification_id(**store, deployment_id);
  context.emit({ConductorEvent::Kind::kStageStarted, StageName::verify, kAgent, "verify"});
  auto started = std::chrono::steady_clock::now();
  Status outcome = stage->second(context);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

  VerifyOutcome result;
  result.deployment = *deployment;
  if (!outcome) result.failure = outcome.error();
  auto rows = (*store)->verifications(deployment_id);
  if (!rows) return fail(rows.error());
  for (const state::VerificationResult& row : *rows) {
    if (row.id > before) result.results.push_back(row);
  }

  std::string detail = outcome ? std::string() : outcome.error().describe();
  record_event(**store, {0, deployment_id, std::chrono::system_clock::now(), kAgent, "verify",
                         outcome ? "succeeded" : "failed", detail});
  log::get("conductor")->info("verification of {} run again: {}", deployment_id, outcome ? "passed" : detail);
  if (outcome) {
    context.emit({ConductorEvent::Kind::kStageSucceeded, StageName::verify, kAgent, "verify", elapsed});
  } else {
    context.emit({ConductorEvent::Kind::kStageFailed, StageName::verify, kAgent, detail});
  }
  return result;
}

}  // namespace hivemind::conductor
