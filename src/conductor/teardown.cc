#include <fmt/format.h>

#include <set>

#include "aws/elbv2.h"
#include "common/log.h"
#include "conductor/conductor.h"
#include "conductor/core_stages.h"
#include "infra/provisioner.h"
#include "state/lock.h"

namespace hivemind::conductor {
namespace {

bool is_live(const state::Resource& resource) {
  return resource.status != state::ResourceStatus::deleted && resource.status != state::ResourceStatus::create_failed;
}

// Deregisters every target of the deployment's target groups, so that the
// load balancer stops sending traffic before the hosts go away.
void deregister_targets(aws::AwsClient& client, const std::vector<state::Resource>& resources) {
  for (const state::Resource& resource : resources) {
    if (resource.kind != infra::kind_name(infra::ResourceKind::kTargetGroup) || resource.physical_id.empty()) continue;
    auto health = aws::elbv2::describe_target_health(client, resource.physical_id);
    if (!health || health->empty()) continue;
    std::vector<aws::elbv2::Target> targets;
    for (const auto& target : *health) targets.push_back({target.target_id, target.port});
    auto removed = aws::elbv2::deregister_targets(client, resource.physical_id, targets);
    if (!removed) log::get("conductor")->warn("deregistering targets failed: {}", removed.error().to_error().message);
  }
}

}  // namespace

Status Conductor::prepare_infra(StageContext& context) {
  if (context.infra) return ok_unit();
  Result<std::unique_ptr<infra::InfraContext>> infra_context = infra_context_from_state(context, setup_.wait);
  if (!infra_context) return fail(infra_context.error());
  context.infra = std::move(*infra_context);
  return ok_unit();
}

Result<TeardownSummary> Conductor::teardown_deployment(StageContext& context,
                                                       const std::vector<state::Resource>& resources,
                                                       state::DeploymentStatus during, state::DeploymentStatus after) {
  Status status = store_->set_status(context.deployment.id, during);
  if (!status) return fail(status.error());
  Status prepared = prepare_infra(context);
  if (!prepared) return fail(prepared.error());
  context.infra->wait = setup_.wait;

  if (setup_.stop_app) {
    Status stopped = setup_.stop_app(context);
    if (!stopped) log::get("conductor")->warn("stopping the app failed: {}", stopped.error().describe());
  }
  deregister_targets(*client_, resources);

  context.infra->on_event = [&context](const infra::ResourceEvent& event) {
    using Kind = infra::ResourceEvent::Kind;
    std::string text;
    if (event.kind == Kind::kDeleting) text = fmt::format("deleting {} {}", event.resource, event.physical_id);
    if (event.kind == Kind::kDeleted) text = fmt::format("deleted {} {}", event.resource, event.physical_id);
    if (event.kind == Kind::kDeleteFailed) text = fmt::format("could not delete {}: {}", event.resource, event.detail);
    if (event.kind == Kind::kWaiting) {
      context.emit({ConductorEvent::Kind::kWaiting, state::StageName::provision, "Jerry the Janitor", event.detail,
                    event.elapsed, std::chrono::seconds(0)});
      return;
    }
    if (!text.empty()) {
      context.emit({ConductorEvent::Kind::kProgress, state::StageName::provision, "Jerry the Janitor", text});
    }
  };

  Result<infra::TeardownResult> result = infra::teardown(*context.infra, resources);
  if (!result) return fail(result.error());

  TeardownSummary summary;
  for (const state::Resource& resource : result->deleted) {
    if (result->already_gone.count(resource.logical_name)) {
      summary.already_gone.push_back(resource);
    } else {
      summary.deleted.push_back(resource);
      summary.monthly_savings_usd += resource.estimated_monthly_cost_usd;
    }
  }
  summary.remaining = result->remaining;
  for (const infra::ResourceFailure& failure : result->failures)
    summary.errors[failure.resource] = failure.error.describe();
  for (const auto& [node, error] : result->walk.errors) summary.errors.emplace(node, error.describe());
  for (const auto& [node, blocker] : result->walk.skipped) {
    summary.errors.emplace(node, fmt::format("not deleted because {} could not be deleted first", blocker));
  }

  state::DeploymentStatus final_status = summary.ok() ? after : state::DeploymentStatus::failed;
  if (summary.ok()) {
    Status saved = store_->set_status(context.deployment.id, final_status);
    if (!saved) return fail(saved.error());
  }
  record_event(*store_, {0, context.deployment.id, std::chrono::system_clock::now(), "Jerry the Janitor",
                         std::string(state::to_string(after)), summary.ok() ? "succeeded" : "incomplete",
                         fmt::format("{} deleted, {} left", summary.deleted.size(), summary.remaining.size())});
  return summary;
}

Result<TeardownSummary> Conductor::rollback_locked(StageContext& context) {
  Result<std::vector<state::Resource>> recorded = store_->resources(context.deployment.id);
  if (!recorded) return fail(recorded.error());
  std::vector<state::Resource> live;
  for (const state::Resource& resource : *recorded) {
    if (is_live(resource)) live.push_back(resource);
  }
  return teardown_deployment(context, live, state::DeploymentStatus::rolling_back,
                             state::DeploymentStatus::rolled_back);
}

Result<TeardownPreview> Conductor::preview_rollback(const std::string& deployment_id) {
  Result<StageContext> loaded = load_context(deployment_id);
  if (!loaded) return fail(loaded.error());
  Result<std::vector<state::Resource>> recorded = store_->resources(deployment_id);
  if (!recorded) return fail(recorded.error());
  TeardownPreview preview;
  for (const state::Resource& resource : *recorded) {
    if (!is_live(resource)) continue;
    preview.resources.push_back(resource);
    preview.monthly_usd += resource.estimated_monthly_cost_usd;
  }
  return preview;
}

Result<TeardownSummary> Conductor::rollback(const std::string& deployment_id) {
  Result<StageContext> loaded = load_context(deployment_id);
  if (!loaded) return fail(loaded.error());
  Result<state::DeploymentLock> lock = take_lock(setup_, deployment_id);
  if (!lock) return fail(lock.error());
  return rollback_locked(*loaded);
}

Result<TeardownPreview> Conductor::preview_destroy(const std::string& deployment_id) {
  if (!state::is_valid_deployment_id(deployment_id)) {
    return fail(make_error("conductor.invalid_id", fmt::format("\"{}\" is not a deployment id.", deployment_id),
                           "Run `hivemind list` or `hivemind janitor --orphans` to see the ids."));
  }
  TeardownPreview preview;
  Result<std::vector<state::Resource>> recorded = store_->resources(deployment_id);
  std::set<std::string> known;
  if (recorded) {
    for (const state::Resource& resource : *recorded) {
      if (!is_live(resource)) continue;
      preview.resources.push_back(resource);
      preview.monthly_usd += resource.estimated_monthly_cost_usd;
      known.insert(resource.physical_id);
    }
  }
  aws::AwsResult<std::vector<infra::DiscoveredResource>> found = infra::discover(*client_, deployment_id);
  if (!found) return fail(found.error().to_error());
  for (const infra::DiscoveredResource& resource : *found) {
    if (!known.count(resource.physical_id)) preview.untracked.push_back(resource);
  }
  return preview;
}

Result<TeardownSummary> Conductor::destroy(const std::string& deployment_id, bool final_snapshot) {
  Result<TeardownPreview> preview = preview_destroy(deployment_id);
  if (!preview) return fail(preview.error());
  Result<state::DeploymentLock> lock = take_lock(setup_, deployment_id);
  if (!lock) return fail(lock.error());

  // A deployment that the state lost is recorded again from its tags.
  Result<state::Deployment> existing = store_->find_deployment(deployment_id);
  if (!existing) {
    state::Deployment deployment;
    deployment.id = deployment_id;
    deployment.app_name = "unknown";
    for (const infra::DiscoveredResource& resource : preview->untracked) {
      std::string app = aws::find_tag(resource.tags, infra::kAppTagKey);
      if (!app.empty()) deployment.app_name = app;
    }
    deployment.region = setup_.client_config.region;
    deployment.status = state::DeploymentStatus::destroying;
    deployment.created_at = std::chrono::system_clock::now();
    Status created = store_->create_deployment(deployment);
    if (!created) return fail(created.error());
  }

  // Resources found by tag join the state before they are deleted, so that
  // every deletion is recorded.
  std::vector<state::Resource> resources = preview->resources;
  std::set<std::string> names;
  for (const state::Resource& resource : resources) names.insert(resource.logical_name);
  for (state::Resource resource : infra::as_state_resources(preview->untracked)) {
    resource.deployment_id = deployment_id;
    if (names.count(resource.logical_name)) resource.logical_name += ":" + resource.physical_id;
    names.insert(resource.logical_name);
    Result<state::Resource> intent =
        store_->record_intent({deployment_id, resource.logical_name, resource.kind, "", 0.0});
    if (!intent) return fail(intent.error());
    Status created = store_->record_created(deployment_id, resource.logical_name, resource.physical_id, resource.arn,
                                            "{\"found_by_tag\": true}");
    if (!created) return fail(created.error());
    resources.push_back(resource);
  }

  Result<StageContext> loaded = load_context(deployment_id);
  if (!loaded) {
    // A deployment recorded from tags has no options; teardown needs none.
    Result<state::Deployment> deployment = store_->find_deployment(deployment_id);
    if (!deployment) return fail(deployment.error());
    StageContext context;
    context.deployment = *deployment;
    context.state_dir = setup_.state_dir;
    context.paths = state::deployment_paths(setup_.state_dir, deployment_id);
    context.store = store_.get();
    context.client = client_.get();
    context.on_event = setup_.on_event;
    loaded = std::move(context);
  }
  StageContext& context = *loaded;
  Status prepared = prepare_infra(context);
  if (!prepared) return fail(prepared.error());
  context.infra->skip_final_snapshot = !final_snapshot;

  Result<TeardownSummary> summary =
      teardown_deployment(context, resources, state::DeploymentStatus::destroying, state::DeploymentStatus::destroyed);
  if (!summary) return summary;
  summary->untracked = preview->untracked;

  // Verify: nothing tagged with the deployment may remain.
  aws::AwsResult<std::vector<infra::DiscoveredResource>> left = infra::discover(*client_, deployment_id);
  if (!left) return fail(left.error().to_error());
  for (const infra::DiscoveredResource& resource : *left) {
    state::Resource remaining;
    remaining.deployment_id = deployment_id;
    remaining.logical_name = resource.logical_name;
    remaining.kind = resource.kind;
    remaining.physical_id = resource.physical_id;
    summary->remaining.push_back(remaining);
    summary->errors.emplace(resource.logical_name, "still tagged with the deployment after the teardown");
  }
  if (!left->empty()) {
    Status failed = store_->set_status(deployment_id, state::DeploymentStatus::failed);
    if (!failed) return fail(failed.error());
  }
  return summary;
}

}  // namespace hivemind::conductor
