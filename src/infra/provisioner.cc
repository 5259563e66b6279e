#include "infra/provisioner.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <set>

#include "common/log.h"
#include "infra/handlers.h"

namespace hivemind::infra {
namespace {

// Creation dependencies between kinds: a resource of the key kind needs
// resources of the value kinds to exist first. Teardown walks them backward.
const std::map<ResourceKind, std::vector<ResourceKind>>& kind_dependencies() {
  static const std::map<ResourceKind, std::vector<ResourceKind>> dependencies = {
      {ResourceKind::kInternetGateway, {ResourceKind::kVpc}},
      {ResourceKind::kSubnet, {ResourceKind::kVpc}},
      {ResourceKind::kRouteTable, {ResourceKind::kVpc, ResourceKind::kInternetGateway, ResourceKind::kSubnet}},
      {ResourceKind::kSecurityGroup, {ResourceKind::kVpc}},
      {ResourceKind::kDbSubnetGroup, {ResourceKind::kSubnet}},
      {ResourceKind::kDbInstance,
       {ResourceKind::kDbSubnetGroup, ResourceKind::kSecurityGroup, ResourceKind::kDbPassword}},
      {ResourceKind::kInstance,
       {ResourceKind::kSubnet, ResourceKind::kSecurityGroup, ResourceKind::kKeyPair, ResourceKind::kRouteTable,
        ResourceKind::kLogGroup}},
      {ResourceKind::kLoadBalancer, {ResourceKind::kSubnet, ResourceKind::kSecurityGroup, ResourceKind::kRouteTable}},
      {ResourceKind::kTargetGroup, {ResourceKind::kVpc}},
      {ResourceKind::kListener, {ResourceKind::kLoadBalancer, ResourceKind::kTargetGroup}},
  };
  return dependencies;
}

bool kind_depends_on(ResourceKind from, ResourceKind to, std::set<ResourceKind>& visited) {
  auto found = kind_dependencies().find(from);
  if (found == kind_dependencies().end()) return false;
  for (ResourceKind next : found->second) {
    if (next == to) return true;
    if (visited.insert(next).second && kind_depends_on(next, to, visited)) return true;
  }
  return false;
}

// Logical-name dependencies of the largest plan (web app, database, HTTPS),
// closed transitively, for ordering resources of the same kind such as the
// security groups that refer to each other.
const std::map<std::string, std::set<std::string>>& name_closure() {
  static const std::map<std::string, std::set<std::string>> closure = [] {
    PlanInputs inputs;
    inputs.deployment_id = "hm-order-aaaaaa";
    inputs.app_name = "order";
    inputs.app_port = 80;
    inputs.database = "postgres";
    inputs.certificate_arn = "arn:aws:acm:us-east-1:000000000000:certificate/order";
    inputs.ssh_cidr = "192.0.2.1/32";
    Result<Plan> plan = build_plan(inputs);
    std::map<std::string, std::set<std::string>> result;
    if (!plan) return result;
    for (const ResourceSpec& spec : plan->resources) {
      std::set<std::string>& reachable = result[spec.name];
      for (const std::string& dependency : spec.depends_on) {
        reachable.insert(dependency);
        const std::set<std::string>& further = result[dependency];
        reachable.insert(further.begin(), further.end());
      }
    }
    return result;
  }();
  return closure;
}

bool resource_depends_on(const state::Resource& from, const state::Resource& to) {
  std::optional<ResourceKind> from_kind = parse_kind_name(from.kind);
  std::optional<ResourceKind> to_kind = parse_kind_name(to.kind);
  if (!from_kind || !to_kind) return false;
  if (*from_kind != *to_kind) {
    std::set<ResourceKind> visited;
    return kind_depends_on(*from_kind, *to_kind, visited);
  }
  auto found = name_closure().find(from.logical_name);
  return found != name_closure().end() && found->second.count(to.logical_name) != 0;
}

Status record_result(state::Store& store, const std::string& deployment_id, const std::string& name,
                     const CreatedResource& created) {
  nlohmann::json attributes = created.attributes;
  attributes["complete"] = true;
  return store.record_created(deployment_id, name, created.physical_id, created.arn, attributes.dump());
}

// Creates one resource of the plan, or adopts or reuses it.
Status provision_one(InfraContext& context, const std::string& name) {
  const ResourceSpec* spec = context.plan().find(name);
  if (spec == nullptr) return fail(make_error("infra.unknown_resource", "Resource " + name + " is not in the plan."));
  const std::string& deployment_id = context.inputs().deployment_id;
  state::Store& store = context.store();
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  };

  Result<std::optional<state::Resource>> recorded = store.find_resource(deployment_id, name);
  if (!recorded) return fail(recorded.error());
  if (recorded->has_value() && (*recorded)->status == state::ResourceStatus::created) {
    nlohmann::json attributes = nlohmann::json::parse((*recorded)->attributes_json, nullptr, false);
    if (!attributes.is_discarded() && attributes.value("complete", false)) {
      context.emit(
          {ResourceEvent::Kind::kReused, name, kind_name(spec->kind), (*recorded)->physical_id, "", elapsed()});
      return ok_unit();
    }
  }

  Result<state::Resource> intent =
      store.record_intent({deployment_id, name, kind_name(spec->kind), "", spec->cost.usd});
  if (!intent) return fail(intent.error());
  const std::string token = intent->client_token;

  Result<std::optional<CreatedResource>> existing = find_existing(context, *spec, token);
  if (!existing) return fail(existing.error());

  CreatedResource created;
  ResourceEvent::Kind outcome = ResourceEvent::Kind::kCreated;
  if (existing->has_value()) {
    created = **existing;
    outcome = ResourceEvent::Kind::kAdopted;
  } else {
    context.emit({ResourceEvent::Kind::kCreating, name, kind_name(spec->kind), "", spec->aws_name, elapsed()});
    Result<CreatedResource> made = create_resource(context, *spec, token);
    if (!made && is_already_exists(made.error())) {
      // An earlier send of this create reached AWS and its response was
      // lost: adopt what it made.
      Result<std::optional<CreatedResource>> found = find_existing(context, *spec, token);
      if (found && found->has_value()) {
        made = **found;
        outcome = ResourceEvent::Kind::kAdopted;
      }
    }
    if (made) {
      Result<int> removed = remove_duplicates(context, *spec, token, made->physical_id);
      if (!removed) return fail(removed.error());
    }
    if (!made) {
      std::optional<ResourceFailure> failure = context.last_failure(name);
      // A create call that may have reached AWS keeps its intent, so that the
      // next run adopts what it made through the same token.
      if (!failure || !failure->ambiguous) {
        Status recorded_failure = store.record_create_failed(deployment_id, name, made.error().describe());
        if (!recorded_failure) return fail(recorded_failure.error());
      }
      context.emit(
          {ResourceEvent::Kind::kCreateFailed, name, kind_name(spec->kind), "", made.error().describe(), elapsed()});
      return fail(made.error());
    }
    created = std::move(*made);
  }

  // Record the id at once, so that teardown finds the resource even when
  // completing it fails; "complete" turns true only once it is ready.
  nlohmann::json partial = created.attributes;
  partial["complete"] = false;
  Status noted = store.record_created(deployment_id, name, created.physical_id, created.arn, partial.dump());
  if (!noted) return fail(noted.error());

  Status completed = complete_resource(context, *spec, created);
  if (!completed) {
    context.emit({ResourceEvent::Kind::kCreateFailed, name, kind_name(spec->kind), created.physical_id,
                  completed.error().describe(), elapsed()});
    return completed;
  }
  Status saved = record_result(store, deployment_id, name, created);
  if (!saved) return saved;
  context.emit({outcome, name, kind_name(spec->kind), created.physical_id, spec->aws_name, elapsed()});
  return ok_unit();
}

// Finds the physical id of a resource whose create call may have reached AWS
// before the run that sent it was killed: by its token tag or unique name.
Result<state::Resource> resolve_intent(InfraContext& context, const state::Resource& resource) {
  if (!resource.physical_id.empty()) return resource;
  const ResourceSpec* planned = context.plan().find(resource.logical_name);
  ResourceSpec spec;
  if (planned != nullptr) {
    spec = *planned;
  } else {
    std::optional<ResourceKind> kind = parse_kind_name(resource.kind);
    if (!kind) return resource;
    spec.name = resource.logical_name;
    spec.kind = *kind;
  }
  Result<std::optional<CreatedResource>> found = find_existing(context, spec, resource.client_token);
  if (!found) return fail(found.error());
  state::Resource resolved = resource;
  if (found->has_value()) {
    resolved.physical_id = (*found)->physical_id;
    resolved.arn = (*found)->arn;
  }
  return resolved;
}

Status delete_one(InfraContext& context, const state::Resource& recorded_resource, std::mutex& results_mutex,
                  std::vector<state::Resource>& deleted, std::set<std::string>& already_gone) {
  state::Store& store = context.store();
  Result<state::Resource> resolved = resolve_intent(context, recorded_resource);
  if (!resolved) return fail(resolved.error());
  const state::Resource& resource = *resolved;
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  };

  Status marked = store.record_deleting(resource.deployment_id, resource.logical_name);
  if (!marked) return marked;
  context.emit(
      {ResourceEvent::Kind::kDeleting, resource.logical_name, resource.kind, resource.physical_id, "", elapsed()});

  bool gone_before = false;
  Status removed = delete_resource(context, resource, &gone_before);
  if (!removed) {
    Status recorded =
        store.record_delete_failed(resource.deployment_id, resource.logical_name, removed.error().describe());
    context.emit({ResourceEvent::Kind::kDeleteFailed, resource.logical_name, resource.kind, resource.physical_id,
                  removed.error().describe(), elapsed()});
    if (!recorded) return recorded;
    return removed;
  }
  Status recorded = store.record_deleted(resource.deployment_id, resource.logical_name);
  if (!recorded) return recorded;
  context.emit(
      {ResourceEvent::Kind::kDeleted, resource.logical_name, resource.kind, resource.physical_id, "", elapsed()});
  std::lock_guard lock(results_mutex);
  deleted.push_back(resource);
  if (gone_before) already_gone.insert(resource.logical_name);
  return ok_unit();
}

}  // namespace

Result<ProvisionResult> provision(InfraContext& context) {
  graph::Graph graph;
  for (const ResourceSpec& spec : context.plan().resources) {
    Status added = graph.add_node(spec.name, spec.depends_on);
    if (!added) return fail(added.error());
  }

  graph::WalkOptions options;
  options.direction = graph::Direction::forward;
  options.max_workers = context.max_workers;
  options.cancel = context.cancel;
  Result<graph::WalkReport> report = graph::walk(
      graph, [&](const std::string& name) { return provision_one(context, name); }, options);
  if (!report) return fail(report.error());
  return ProvisionResult{std::move(*report), context.failures()};
}

graph::Graph teardown_graph(const std::vector<state::Resource>& resources) {
  graph::Graph graph;
  for (const state::Resource& from : resources) {
    std::vector<std::string> depends_on;
    for (const state::Resource& to : resources) {
      if (&from != &to && resource_depends_on(from, to)) depends_on.push_back(to.logical_name);
    }
    Status added = graph.add_node(from.logical_name, depends_on);
    if (!added) log::get("provisioner")->warn("teardown graph: {}", added.error().message);
  }
  return graph;
}

Result<TeardownResult> teardown(InfraContext& context, const std::vector<state::Resource>& resources) {
  std::map<std::string, const state::Resource*> by_name;
  for (const state::Resource& resource : resources) by_name[resource.logical_name] = &resource;
  graph::Graph graph = teardown_graph(resources);

  std::mutex results_mutex;
  TeardownResult result;
  graph::WalkOptions options;
  options.direction = graph::Direction::reverse;
  options.max_workers = context.max_workers;
  options.continue_after_failure = true;  // delete everything that can be deleted
  options.cancel = context.cancel;
  Result<graph::WalkReport> report = graph::walk(
      graph,
      [&](const std::string& name) {
        return delete_one(context, *by_name.at(name), results_mutex, result.deleted, result.already_gone);
      },
      options);
  if (!report) return fail(report.error());

  result.walk = std::move(*report);
  result.failures = context.failures();
  std::set<std::string> gone;
  for (const state::Resource& resource : result.deleted) gone.insert(resource.logical_name);
  for (const state::Resource& resource : resources) {
    if (!gone.count(resource.logical_name)) result.remaining.push_back(resource);
  }
  return result;
}

Result<TeardownResult> teardown_recorded(InfraContext& context) {
  Result<std::vector<state::Resource>> recorded = context.store().resources(context.inputs().deployment_id);
  if (!recorded) return fail(recorded.error());

  std::vector<state::Resource> pending;
  for (const state::Resource& resource : *recorded) {
    if (resource.status == state::ResourceStatus::deleted || resource.status == state::ResourceStatus::create_failed) {
      continue;
    }
    pending.push_back(resource);
  }
  return teardown(context, pending);
}

}  // namespace hivemind::infra
