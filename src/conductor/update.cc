// `hivemind update`: puts a new version of a deployed app in service,
// blue-green by default or in place with --rolling. This file contains the
// order of the steps and what each failure undoes. update_steps.cc contains
// the steps that talk to instances and the load balancer.

#include <fmt/format.h>

#include <functional>

#include "common/log.h"
#include "conductor/conductor.h"
#include "conductor/core_stages.h"
#include "conductor/update_steps.h"
#include "conductor/verify_targets.h"
#include "infra/provisioner.h"

namespace hivemind::conductor {
namespace {

using state::StageName;

constexpr const char* kConductorAgent = "Cornelius the Conductor";
constexpr const char* kJanitorAgent = "Jerry the Janitor";
// How long the new version may take to pass its health check once its port
// listens, for an app that still warms up. A chosen bound, not a measured one.
constexpr std::chrono::seconds kHealthTimeout{30};
// Waited on top of the target group's deregistration delay.
constexpr std::chrono::seconds kDrainMargin{60};

// The state of one update, shared by its steps.
struct UpdateRun {
  UpdateRun(StageContext& context, DeploySettings settings) : context(context), settings(std::move(settings)) {}

  StageContext& context;
  DeploySettings settings;
  std::string previous_version;
  std::string new_version;
  std::string blue_id;
  std::string green_id;
  std::string target_group_arn;  // empty for a worker without a load balancer
  std::chrono::seconds drain_timeout{30 + kDrainMargin.count()};
  bool green_registered = false;
};

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

void note(const StageContext& context, StageName stage, const char* agent, std::string text) {
  context.emit({ConductorEvent::Kind::kNote, stage, agent, std::move(text)});
}

void timeline(const StageContext& context, const char* agent, const std::string& action, const std::string& outcome,
              const std::string& detail) {
  record_event(*context.store,
               {0, context.deployment.id, std::chrono::system_clock::now(), agent, action, outcome, detail});
}

// Runs one phase of an update: shows its start and end with the agent's
// name, and records both in the deployment's timeline with the duration.
Status run_phase(StageContext& context, StageName stage, const char* agent, const std::string& name,
                 const std::function<Status()>& body) {
  auto start = std::chrono::steady_clock::now();
  context.emit({ConductorEvent::Kind::kStageStarted, stage, agent, name});
  timeline(context, agent, "update: " + name, "started", "");

  Status outcome = body();
  std::chrono::milliseconds elapsed = since(start);
  if (!outcome) {
    context.emit({ConductorEvent::Kind::kStageFailed, stage, agent, outcome.error().describe()});
    timeline(context, agent, "update: " + name, "failed",
             fmt::format("after {} ms: {}", elapsed.count(), outcome.error().describe()));
    return outcome;
  }
  context.emit({ConductorEvent::Kind::kStageSucceeded, stage, agent, name, elapsed});
  timeline(context, agent, "update: " + name, "succeeded", fmt::format("took {} ms", elapsed.count()));
  return ok_unit();
}

bool is_live(const state::Resource& resource) {
  return resource.status != state::ResourceStatus::deleted && resource.status != state::ResourceStatus::create_failed;
}

void forward_janitor_events(StageContext& context) {
  context.infra->on_event = [&context](const infra::ResourceEvent& event) {
    using Kind = infra::ResourceEvent::Kind;
    std::string text;
    if (event.kind == Kind::kDeleting) text = fmt::format("terminating {} {}", event.resource, event.physical_id);
    if (event.kind == Kind::kDeleted) text = fmt::format("terminated {} {}", event.resource, event.physical_id);
    if (event.kind == Kind::kDeleteFailed) text = fmt::format("could not delete {}: {}", event.resource, event.detail);
    if (event.kind == Kind::kWaiting) text = event.detail;
    if (!text.empty()) context.emit({ConductorEvent::Kind::kProgress, StageName::provision, kJanitorAgent, text});
  };
}

// Deletes the recorded resource `logical_name` when it is live, recording
// deleting and deleted around the AWS call, and waits until it is gone.
Status remove_recorded(StageContext& context, const std::string& logical_name) {
  Result<std::optional<state::Resource>> found = context.store->find_resource(context.deployment.id, logical_name);
  if (!found) return fail(found.error());
  if (!found->has_value() || !is_live(**found)) return ok_unit();

  forward_janitor_events(context);
  Result<infra::TeardownResult> removed = infra::teardown(*context.infra, {**found});
  if (!removed) return fail(removed.error());
  if (removed->ok()) return ok_unit();
  if (!removed->failures.empty()) return fail(removed->failures.front().error);
  return fail(make_error("update.remove_failed",
                         fmt::format("Instance {} ({}) could not be deleted.", (*found)->physical_id, logical_name),
                         "Run `hivemind rollback` or `hivemind destroy` to delete it."));
}

// Launches the green instance through the provisioner: the plan's instance
// under another logical name, in the same subnet and security group, with
// the same key and user data, recorded before and after RunInstances.
Status launch_green(StageContext& context) {
  const infra::ResourceSpec* blue = context.infra->plan().find("instance");
  if (blue == nullptr) {
    return fail(make_error("update.no_instance_in_plan",
                           fmt::format("The stored plan of deployment {} has no instance.", context.deployment.id),
                           "Only deployments that run on an EC2 instance can be updated."));
  }
  infra::ResourceSpec green = *blue;
  green.name = kGreenInstance;
  // The instance's dependencies exist already; the handlers read their ids from state.
  green.depends_on.clear();
  infra::Plan plan;
  plan.resources.push_back(green);

  infra::InfraContext green_context(*context.client, *context.store, context.infra->inputs(), plan, context.paths.root);
  green_context.wait = context.infra->wait;
  green_context.on_event = [&context](const infra::ResourceEvent& event) {
    using Kind = infra::ResourceEvent::Kind;
    std::string text = event.detail;
    if (event.kind == Kind::kCreating) text = "launching the new instance";
    if (event.kind == Kind::kCreated) text = "launched " + event.physical_id;
    if (!text.empty()) context.emit({ConductorEvent::Kind::kProgress, StageName::provision, "Peter Provisioner", text});
  };

  Result<infra::ProvisionResult> result = infra::provision(green_context);
  if (!result) return fail(result.error());
  if (result->ok()) return ok_unit();
  if (!result->failures.empty()) return fail(result->failures.front().error);
  for (const auto& [node, error] : result->walk.errors) return fail(error);
  return fail(make_error("update.launch_failed", "The new instance was not launched.",
                         "Run `hivemind status` for the resource's error, then update again."));
}

// Undoes a blue-green update before the old instance left the load
// balancer: takes the green instance out of the target group and deletes it.
Status abandon_green(UpdateRun& run, Error error) {
  StageContext& context = run.context;
  if (run.green_registered) {
    Status removed = deregister_and_drain(context, run.target_group_arn, run.green_id, run.drain_timeout);
    if (!removed)
      log::get("conductor")->warn("taking {} out of service failed: {}", run.green_id, removed.error().describe());
  }
  Status deleted = remove_recorded(context, kGreenInstance);
  error.message += fmt::format(" Instance {} still serves version {}.", run.blue_id, run.previous_version);
  if (deleted) {
    error.message += " The new instance was deleted.";
  } else {
    error.message += " Deleting the new instance failed: " + deleted.error().message;
    error.remediation += " `hivemind rollback` or `hivemind destroy` deletes the new instance with the rest.";
  }
  return fail(std::move(error));
}

// Undoes a blue-green update after the old instance left the load balancer:
// puts it back in service, then takes the green instance out and deletes it.
// NOTE: no test reaches this path yet, so it is checked by reading only.
Status switch_back(UpdateRun& run, Error error) {
  StageContext& context = run.context;
  note(context, StageName::deploy, kConductorAgent, "switching the load balancer back to " + run.blue_id);
  Status restored = register_target(context, run.target_group_arn, run.blue_id);
  if (restored) restored = wait_target_serving(context, run.target_group_arn, run.blue_id, run.settings);
  if (!restored) {
    error.message += fmt::format(" Switching the load balancer back to instance {} failed too: {}", run.blue_id,
                                 restored.error().message);
    error.remediation = fmt::format("Run `hivemind status {}`; `hivemind rollback {}` deletes the deployment.",
                                    context.deployment.id, context.deployment.id);
    return fail(std::move(error));
  }
  return abandon_green(run, std::move(error));
}

// Registers green, waits until it serves, then drains blue.
Status switch_load_balancer(UpdateRun& run) {
  StageContext& context = run.context;
  Status registered = register_target(context, run.target_group_arn, run.green_id);
  if (!registered) return abandon_green(run, registered.error());
  run.green_registered = true;

  Status serving = wait_target_serving(context, run.target_group_arn, run.green_id, run.settings);
  if (!serving) return abandon_green(run, serving.error());

  context.emit({ConductorEvent::Kind::kProgress, StageName::deploy, kConductorAgent,
                fmt::format("draining {} (deregistration delay up to {} s)", run.blue_id,
                            (run.drain_timeout - kDrainMargin).count())});
  Status drained = deregister_and_drain(context, run.target_group_arn, run.blue_id, run.drain_timeout);
  if (drained) return ok_unit();
  // A rejected DeregisterTargets call left blue in service.
  if (drained.error().code != "update.drain_timeout") return abandon_green(run, drained.error());
  return switch_back(run, drained.error());
}

// Hands the name "instance" to green and terminates blue. The new version
// serves already, so a failed termination is reported, not undone.
Status retire_blue(UpdateRun& run) {
  StageContext& context = run.context;
  std::string retired = "instance_retired_" + run.blue_id;
  Status renamed =
      context.store->rename_resources(context.deployment.id, {{"instance", retired}, {kGreenInstance, "instance"}});
  if (!renamed) return renamed;

  DeploySettings serving = run.settings;
  serving.instance_resource = "instance";
  if (Status recorded = record_serving_host(context, run.new_version, serving); !recorded) return recorded;
  if (Status saved = context.store->set_attribute(context.deployment.id, "current_instance", run.green_id); !saved) {
    return saved;
  }

  Status removed = remove_recorded(context, retired);
  if (!removed) {
    log::get("conductor")->warn("terminating the old instance {} failed: {}", run.blue_id, removed.error().describe());
    note(context, StageName::provision, kJanitorAgent,
         fmt::format("the old instance {} could not be terminated: {}; `hivemind rollback` or `hivemind destroy` "
                     "deletes it later",
                     run.blue_id, removed.error().message));
  }
  return ok_unit();
}

Status blue_green(UpdateRun& run) {
  StageContext& context = run.context;
  Result<std::optional<RecordedResource>> blue = find_recorded(context, "instance");
  if (!blue) return fail(blue.error());
  if (!blue->has_value()) {
    return fail(make_error("update.no_instance",
                           fmt::format("Deployment {} has no running instance to replace.", context.deployment.id),
                           fmt::format("Run `hivemind status {}` to see its resources.", context.deployment.id)));
  }
  run.blue_id = (*blue)->physical_id;
  Result<std::optional<RecordedResource>> group = find_recorded(context, "target_group");
  if (!group) return fail(group.error());
  if (group->has_value()) run.target_group_arn = (*group)->physical_id;
  if (const infra::ResourceSpec* spec = context.infra->plan().find("target_group"); spec != nullptr) {
    run.drain_timeout = std::chrono::seconds(spec->properties.value("deregistration_delay_seconds", 30)) + kDrainMargin;
  }

  // An earlier update that could not clean up may have left its new instance.
  if (Status cleared = remove_recorded(context, kGreenInstance); !cleared) return cleared;

  Status launched = run_phase(context, StageName::provision, "Peter Provisioner", "launch the new instance",
                              [&] { return launch_green(context); });
  if (!launched) return abandon_green(run, launched.error());
  Result<std::optional<RecordedResource>> green = find_recorded(context, kGreenInstance);
  if (!green || !green->has_value()) {
    return abandon_green(run, make_error("update.no_green", "The new instance is not recorded as created."));
  }
  run.green_id = (*green)->physical_id;

  Status deployed = run_phase(context, StageName::deploy, "Dan the Deployer", "deploy onto " + run.green_id, [&] {
    DeploySettings settings = run.settings;
    settings.instance_resource = kGreenInstance;
    settings.serve = false;
    Status installed = run_deploy_with(context, settings);
    if (!installed) return installed;
    return check_instance_health(context, kGreenInstance, kHealthTimeout);
  });
  if (!deployed) return abandon_green(run, deployed.error());

  if (!run.target_group_arn.empty()) {
    Status switched = run_phase(context, StageName::deploy, kConductorAgent, "switch the load balancer",
                                [&] { return switch_load_balancer(run); });
    if (!switched) return switched;
    Status verified = run_phase(context, StageName::verify, "Overwatch", "verify through the load balancer",
                                [&] { return check_load_balancer_health(context, kHealthTimeout); });
    if (!verified) return switch_back(run, verified.error());
  }
  return run_phase(context, StageName::provision, kJanitorAgent, "retire " + run.blue_id,
                   [&] { return retire_blue(run); });
}

// After a rolling update failed: makes sure the previous release runs again.
Status restore_previous_release(UpdateRun& run, Error error) {
  StageContext& context = run.context;
  if (run.previous_version.empty() || run.previous_version == run.new_version) return fail(std::move(error));

  // install_release already switched back when the new release did not start.
  Result<std::string> current = current_release(context, run.settings.base_folder);
  Status restored = ok_unit();
  if (!current || *current != run.previous_version) {
    note(context, StageName::deploy, "Dan the Deployer", "starting release " + run.previous_version + " again");
    restored = activate_previous_release(context, run.previous_version, run.settings.base_folder);
  }
  if (restored) restored = record_serving_host(context, run.previous_version, run.settings);
  // The load balancer may have marked the instance unhealthy meanwhile.
  Result<std::optional<RecordedResource>> group = find_recorded(context, "target_group");
  Result<std::optional<RecordedResource>> instance = find_recorded(context, "instance");
  if (restored && group && group->has_value() && instance && instance->has_value()) {
    restored = wait_target_serving(context, (*group)->physical_id, (*instance)->physical_id, run.settings);
  }
  if (restored) {
    error.message += fmt::format(" Release {} runs again in its place.", run.previous_version);
  } else {
    error.message +=
        fmt::format(" Starting release {} again failed too: {}", run.previous_version, restored.error().message);
  }
  return fail(std::move(error));
}

Status rolling(UpdateRun& run) {
  StageContext& context = run.context;
  run.settings.instance_resource = "instance";
  run.settings.serve = true;
  Status deployed = run_phase(context, StageName::deploy, "Dan the Deployer", "install the release in place",
                              [&] { return run_deploy_with(context, run.settings); });
  if (!deployed) return restore_previous_release(run, deployed.error());

  Status healthy = run_phase(context, StageName::verify, "Overwatch", "check the new release", [&] {
    Status direct = check_instance_health(context, "instance", kHealthTimeout);
    if (!direct) return direct;
    return check_load_balancer_health(context, kHealthTimeout);
  });
  if (!healthy) return restore_previous_release(run, healthy.error());

  Result<std::optional<RecordedResource>> instance = find_recorded(context, "instance");
  if (instance && instance->has_value()) run.green_id = (*instance)->physical_id;
  run.blue_id = run.green_id;
  return ok_unit();
}

Error not_deployed(const state::Deployment& deployment) {
  std::string next = fmt::format("Run `hivemind status {}` to see where it stands.", deployment.id);
  if (deployment.status == state::DeploymentStatus::failed) {
    next = fmt::format("Finish it first with `hivemind retry {}`.", deployment.id);
  }
  if (deployment.status == state::DeploymentStatus::rolled_back ||
      deployment.status == state::DeploymentStatus::destroyed) {
    next = "Its resources are deleted: deploy again with `hivemind deploy`.";
  }
  return make_error("conductor.not_deployed",
                    fmt::format("Deployment {} is {}, so it cannot be updated: only a deployed deployment can.",
                                deployment.id, state::to_string(deployment.status)),
                    next);
}

}  // namespace

Result<UpdateSummary> Conductor::update(const std::string& deployment_id, const UpdateOptions& options) {
  Result<StageContext> loaded = load_context(deployment_id);
  if (!loaded) return fail(loaded.error());
  // `updating` with a free lock means an earlier update was killed; its new
  // instance, if still named instance_green, is deleted before this one starts.
  auto updatable = [](const state::Deployment& deployment) {
    return deployment.status == state::DeploymentStatus::deployed ||
           deployment.status == state::DeploymentStatus::updating;
  };
  if (!updatable(loaded->deployment)) return fail(not_deployed(loaded->deployment));

  Result<state::DeploymentLock> lock = take_lock(setup_, deployment_id);
  if (!lock) return fail(lock.error());
  // Another command may have changed the deployment before the lock was taken.
  loaded = load_context(deployment_id);
  if (!loaded) return fail(loaded.error());
  if (!updatable(loaded->deployment)) return fail(not_deployed(loaded->deployment));
  if (loaded->deployment.status == state::DeploymentStatus::updating) {
    log::get("conductor")->warn("{} was left updating by a command that stopped; updating it again", deployment_id);
  }
  return update_locked(*loaded, options);
}

Result<UpdateSummary> Conductor::update_locked(StageContext& context, const UpdateOptions& options) {
  auto started = std::chrono::steady_clock::now();
  UpdateRun run(context, setup_.update_deploy);
  run.previous_version = context.deployment.version;
  const std::string strategy = options.rolling ? "rolling" : "blue-green";
  if (!options.version_ref.empty()) context.options.ref = options.version_ref;

  context.deployment.status = state::DeploymentStatus::updating;
  if (Status saved = store_->update_deployment(context.deployment); !saved) return fail(saved.error());
  timeline(context, kConductorAgent, "update", "started",
           fmt::format("{} update from version {}{}", strategy, run.previous_version,
                       options.version_ref.empty() ? "" : " to ref " + options.version_ref));

  Status done = run_phase(context, StageName::build, "Chris Compiler", "build the new version", [&] {
    Status analyzed = run_analyze(context);
    if (!analyzed) return analyzed;
    return run_build(context);
  });
  if (done) {
    // run_build records the built version; the deployment keeps the one it
    // serves until the new one is in service.
    run.new_version = context.deployment.version;
    context.deployment.version = run.previous_version;
    done = store_->update_deployment(context.deployment);
    note(context, StageName::build, "Chris Compiler",
         run.new_version == run.previous_version
             ? fmt::format("version {} is the one running; it is deployed again", run.new_version)
             : fmt::format("version {} replaces {}", run.new_version, run.previous_version));
  }
  if (done) done = prepare_infra(context);
  if (done) {
    context.infra->wait = setup_.wait;
    context.plan_inputs = context.infra->inputs();
    context.plan = context.infra->plan();
    done = options.rolling ? rolling(run) : blue_green(run);
  }

  context.deployment.status = state::DeploymentStatus::deployed;
  if (done) context.deployment.version = run.new_version;
  if (Status saved = store_->update_deployment(context.deployment); !saved) return fail(saved.error());
  std::chrono::milliseconds elapsed = since(started);
  if (!done) {
    log::get("conductor")->error("update of {} failed: {}", context.deployment.id, done.error().describe());
    timeline(context, kConductorAgent, "update", "failed", done.error().describe());
    return fail(done.error());
  }

  if (Status saved = store_->set_attribute(context.deployment.id, "previous_version", run.previous_version); !saved) {
    return fail(saved.error());
  }
  timeline(context, kConductorAgent, "update", "succeeded",
           fmt::format("{} update from version {} to {} on instance {} in {} ms", strategy, run.previous_version,
                       run.new_version, run.green_id, elapsed.count()));
  // The alarms and the dashboard name the serving instance, which a
  // blue-green update replaced; putting them again updates them in place.
  if (StageFunction monitor = stage_function(StageName::monitor); monitor && !options.rolling) {
    Status watched = monitor(context);
    if (!watched)
      log::get("conductor")->warn("pointing the alarms at the new instance failed: {}", watched.error().describe());
  }
  // The report describes the version that serves now.
  if (StageFunction report = stage_function(StageName::report); report) {
    Status written = report(context);
    if (!written) log::get("conductor")->warn("rewriting the report failed: {}", written.error().describe());
  }
  return UpdateSummary{context.deployment, strategy, run.previous_version, run.blue_id, run.green_id, elapsed};
}

}  // namespace hivemind::conductor
