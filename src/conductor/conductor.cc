#include "conductor/conductor.h"

#include <fmt/format.h>

#include <array>
#include <set>

#include "aws/curl_transport.h"
#include "aws/elbv2.h"
#include "common/log.h"
#include "conductor/core_stages.h"
#include "conductor/interrupted.h"
#include "infra/provisioner.h"
#include "state/lock.h"
#include "state/paths.h"

namespace hivemind::conductor {
namespace {

using state::StageName;

constexpr std::array kStageOrder = {StageName::analyze, StageName::build,  StageName::provision, StageName::deploy,
                                    StageName::secure,  StageName::verify, StageName::monitor,   StageName::report};

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

std::string default_app_name_for(const DeployOptions& options) {
  std::string name = build::default_app_name(options.source, options.app_dir);
  return name.empty() ? "app" : name;
}

}  // namespace

Result<state::DeploymentLock> take_lock(const ConductorSetup& setup, const std::string& deployment_id) {
  state::LockOptions lock_options;
  lock_options.command = setup.command_line;
  return state::DeploymentLock::acquire(setup.state_dir, deployment_id, lock_options);
}

const char* agent_of(StageName stage) {
  switch (stage) {
    case StageName::analyze:
      return "Randy Recon";
    case StageName::build:
      return "Chris Compiler";
    case StageName::provision:
      return "Peter Provisioner";
    case StageName::deploy:
      return "Dan the Deployer";
    case StageName::secure:
      return "Shawn the Sheriff";
    case StageName::verify:
      return "Overwatch";
    case StageName::monitor:
      return "The All-Seeing Eye";
    case StageName::report:
      return "Cornelius the Conductor";
  }
  return "Cornelius the Conductor";
}

std::string to_json(const DeployOptions& options) {
  nlohmann::json json = {{"source", options.source},
                         {"description", options.description},
                         {"ref", options.ref},
                         {"app_dir", options.app_dir},
                         {"instance_type", options.instance_type},
                         {"certificate_arn", options.certificate_arn},
                         {"ssh_cidr", options.ssh_cidr},
                         {"ami", options.ami},
                         {"auto_cleanup", options.auto_cleanup},
                         {"max_retries", options.max_retries},
                         {"tags", options.tags}};
  if (options.database) json["database"] = *options.database;
  return json.dump();
}

Result<DeployOptions> deploy_options_from_json(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(make_error("conductor.bad_options", "The deployment's stored options are unreadable.",
                           "Use `hivemind destroy <id>` and deploy again."));
  }
  DeployOptions options;
  options.source = json.value("source", "");
  options.description = json.value("description", "");
  options.ref = json.value("ref", "");
  options.app_dir = json.value("app_dir", "");
  options.instance_type = json.value("instance_type", "t3.micro");
  options.certificate_arn = json.value("certificate_arn", "");
  options.ssh_cidr = json.value("ssh_cidr", "");
  options.ami = json.value("ami", "");
  options.auto_cleanup = json.value("auto_cleanup", true);
  options.max_retries = json.value("max_retries", 3);
  options.tags = json.value("tags", std::map<std::string, std::string>{});
  if (json.contains("database")) options.database = json["database"].get<bool>();
  return options;
}

Conductor::Conductor(ConductorSetup setup, std::unique_ptr<state::Store> store, std::unique_ptr<aws::AwsClient> client)
    : setup_(std::move(setup)), store_(std::move(store)), client_(std::move(client)) {}

Result<std::unique_ptr<Conductor>> Conductor::open(ConductorSetup setup) {
  state::StoreOptions store_options;
  store_options.state_dir = setup.state_dir;
  Result<std::unique_ptr<state::Store>> store = state::Store::open(store_options);
  if (!store) return fail(store.error());
  std::shared_ptr<aws::HttpTransport> transport = setup.transport;
  if (!transport) transport = std::make_shared<aws::CurlTransport>();
  auto client = std::make_unique<aws::AwsClient>(setup.client_config, transport);
  return std::unique_ptr<Conductor>(new Conductor(std::move(setup), std::move(*store), std::move(client)));
}

StageFunction Conductor::stage_function(StageName stage) const {
  switch (stage) {
    case StageName::analyze:
      return run_analyze;
    case StageName::build:
      return run_build;
    case StageName::provision:
      return run_provision;
    default:
      break;
  }
  auto found = setup_.stages.find(stage);
  if (found != setup_.stages.end()) return found->second;
  return nullptr;
}

Status Conductor::run_stage(StageContext& context, StageName stage) {
  StageFunction function = stage_function(stage);
  if (!function) {
    return fail(make_error(
        "conductor.stage_unavailable",
        fmt::format("The {} stage ({}) is not available in this build.", state::to_string(stage), agent_of(stage)),
        "Nothing was left running: the deployment is cleaned up unless --no-auto-cleanup was set."));
  }
  return function(context);
}

Result<state::Deployment> Conductor::run_stages(StageContext& context, StageName first_stage) {
  bool started = false;
  for (StageName stage : kStageOrder) {
    if (stage == first_stage) started = true;

    // Stages before the resumed one run again for their in-memory results
    // (they are cached and make no AWS call) but are not recorded again.
    bool recorded = started;
    auto stage_start = std::chrono::steady_clock::now();
    std::int64_t run_id = 0;
    if (recorded) {
      context.emit({ConductorEvent::Kind::kStageStarted, stage, agent_of(stage), std::string(state::to_string(stage))});
      Result<std::int64_t> run = store_->start_stage(context.deployment.id, stage, context.deployment.retry_count + 1,
                                                     std::chrono::system_clock::now());
      if (!run) return fail(run.error());
      run_id = *run;
    } else if (stage != StageName::analyze && stage != StageName::build) {
      continue;
    }

    context.failure.reset();
    Status outcome = run_stage(context, stage);
    if (recorded) {
      Status finished =
          store_->finish_stage(run_id, outcome ? state::StageOutcome::succeeded : state::StageOutcome::failed,
                               std::chrono::system_clock::now(), outcome ? std::string() : outcome.error().describe());
      if (!finished) return fail(finished.error());
    }
    if (!outcome) return handle_failure(context, stage, outcome.error());
    if (recorded) {
      context.emit({ConductorEvent::Kind::kStageSucceeded, stage, agent_of(stage), std::string(state::to_string(stage)),
                    since(stage_start)});
      record_event(*store_, {0, context.deployment.id, std::chrono::system_clock::now(), agent_of(stage),
                             std::string(state::to_string(stage)), "succeeded", ""});
    }
  }

  context.deployment.status = state::DeploymentStatus::deployed;
  context.deployment.failed_stage.reset();
  context.deployment.failure.reset();
  Status saved = store_->update_deployment(context.deployment);
  if (!saved) return fail(saved.error());
  return context.deployment;
}

Result<state::Deployment> Conductor::handle_failure(StageContext& context, StageName stage, const Error& error) {
  state::FailureInfo failure = context.failure.value_or(state::FailureInfo{});
  if (failure.agent.empty()) failure.agent = agent_of(stage);
  if (failure.message.empty()) failure.message = error.describe();
  log::get("conductor")
      ->error("{} stage of {} failed: {} ({} {}, request id {})", state::to_string(stage), context.deployment.id,
              failure.message, failure.agent, failure.action, failure.aws_request_id);
  context.emit({ConductorEvent::Kind::kStageFailed, stage, agent_of(stage), error.describe()});

  Status recorded = store_->record_failure(context.deployment.id, stage, failure);
  if (!recorded) return fail(recorded.error());
  record_event(*store_, {0, context.deployment.id, std::chrono::system_clock::now(), failure.agent,
                         std::string(state::to_string(stage)), "failed", failure.message});
  Result<state::Deployment> reloaded = store_->find_deployment(context.deployment.id);
  if (!reloaded) return fail(reloaded.error());
  context.deployment = *reloaded;

  if (!context.options.auto_cleanup) return context.deployment;

  context.emit({ConductorEvent::Kind::kProgress, stage, "Jerry the Janitor", "cleaning up after the failure"});
  Result<TeardownSummary> cleaned = rollback_locked(context);
  if (!cleaned) return fail(cleaned.error());
  reloaded = store_->find_deployment(context.deployment.id);
  if (!reloaded) return fail(reloaded.error());
  return *reloaded;
}

Result<state::Deployment> Conductor::deploy(const DeployOptions& options) {
  state::Deployment deployment;
  deployment.app_name = default_app_name_for(options);
  deployment.id = state::make_deployment_id(deployment.app_name);
  deployment.description = options.description;
  deployment.source = options.source;
  deployment.region = setup_.client_config.region;
  deployment.endpoint_kind =
      setup_.target == Target::kSandbox ? state::EndpointKind::sandbox : state::EndpointKind::aws;
  deployment.status = state::DeploymentStatus::deploying;
  deployment.max_retries = options.max_retries;
  deployment.created_at = std::chrono::system_clock::now();
  deployment.options_json = to_json(options);

  Result<state::DeploymentPaths> paths = state::ensure_deployment_dirs(setup_.state_dir, deployment.id);
  if (!paths) return fail(paths.error());
  Result<state::DeploymentLock> lock = take_lock(setup_, deployment.id);
  if (!lock) return fail(lock.error());
  Status created = store_->create_deployment(deployment);
  if (!created) return fail(created.error());

  StageContext context;
  context.deployment = deployment;
  context.options = options;
  context.target = setup_.target;
  context.state_dir = setup_.state_dir;
  context.paths = *paths;
  context.store = store_.get();
  context.client = client_.get();
  context.on_event = setup_.on_event;
  context.emit(
      {ConductorEvent::Kind::kDeploymentCreated, StageName::analyze, "Cornelius the Conductor", deployment.id});
  return run_stages(context, StageName::analyze);
}

Result<StageContext> Conductor::load_context(const std::string& deployment_id) {
  if (!state::is_valid_deployment_id(deployment_id)) {
    return fail(make_error("conductor.invalid_id", fmt::format("\"{}\" is not a deployment id.", deployment_id),
                           "Run `hivemind list` to see the deployments and their ids."));
  }
  Result<state::Deployment> deployment = store_->find_deployment(deployment_id);
  if (!deployment) return fail(deployment.error());
  Result<DeployOptions> options = deploy_options_from_json(deployment->options_json);
  if (!options) return fail(options.error());
  Result<state::DeploymentPaths> paths = state::ensure_deployment_dirs(setup_.state_dir, deployment_id);
  if (!paths) return fail(paths.error());

  StageContext context;
  context.deployment = *deployment;
  context.options = *options;
  context.target = setup_.target;
  context.state_dir = setup_.state_dir;
  context.paths = *paths;
  context.store = store_.get();
  context.client = client_.get();
  context.on_event = setup_.on_event;
  return context;
}

Result<state::Deployment> Conductor::retry(const std::string& deployment_id) {
  Result<StageContext> loaded = load_context(deployment_id);
  if (!loaded) return fail(loaded.error());
  StageContext& context = *loaded;
  const state::Deployment& deployment = context.deployment;

  // The lock comes first: once this process holds it, a deployment still
  // `deploying` was left by a command that died, and resumes like a failed one.
  Result<state::DeploymentLock> lock = take_lock(setup_, deployment_id);
  if (!lock) return fail(lock.error());
  Result<bool> interrupted = mark_interrupted(*store_, context.deployment);
  if (!interrupted) return fail(interrupted.error());

  if (deployment.status != state::DeploymentStatus::failed || !deployment.failed_stage) {
    return fail(make_error("conductor.nothing_to_retry",
                           fmt::format("Deployment {} is {}, not failed, so there is nothing to retry.", deployment_id,
                                       state::to_string(deployment.status)),
                           next_step_instead_of_retry(deployment)));
  }
  if (deployment.retry_count >= deployment.max_retries) {
    return fail(make_error(
        "conductor.too_many_retries",
        fmt::format("Deployment {} was retried {} times, its maximum.", deployment_id, deployment.retry_count),
        fmt::format("Fix the cause shown by `hivemind status {0}`, then `hivemind destroy {0}` and "
                    "deploy again, or raise the limit with --max-retries.",
                    deployment_id)));
  }

  StageName resume_at = *deployment.failed_stage;
  context.deployment.retry_count += 1;
  context.deployment.status = state::DeploymentStatus::deploying;
  Status saved = store_->update_deployment(context.deployment);
  if (!saved) return fail(saved.error());
  return run_stages(context, resume_at);
}

Result<infra::Plan> Conductor::what_if(const DeployOptions& options) {
  StageContext context;
  context.deployment.app_name = default_app_name_for(options);
  context.deployment.id = state::make_deployment_id(context.deployment.app_name);
  context.deployment.region = setup_.client_config.region;
  context.options = options;
  context.target = setup_.target;
  context.state_dir = setup_.state_dir;
  Status analyzed = run_analyze(context);
  if (!analyzed) return fail(analyzed.error());
  Result<infra::PlanInputs> inputs = plan_inputs_for(context);
  if (!inputs) return fail(inputs.error());
  return infra::build_plan(*inputs);
}

}  // namespace hivemind::conductor
