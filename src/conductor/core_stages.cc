#include "conductor/core_stages.h"

#include <fmt/format.h>

#include "build/compiler.h"
#include "common/log.h"
#include "infra/provisioner.h"
#include "repo/analysis.h"
#include "repo/source.h"

namespace hivemind::conductor {
namespace {

// The address every sandbox host sees the deploying machine at: the bridge.
constexpr const char* kSandboxSshCidr = "198.18.0.1/32";

ConductorEvent progress(state::StageName stage, const char* agent, std::string text) {
  return {ConductorEvent::Kind::kProgress, stage, agent, std::move(text), std::chrono::milliseconds(0),
          std::chrono::seconds(0)};
}

std::optional<std::string> database_engine(const StageContext& context) {
  const repo::Analysis& analysis = *context.analysis;
  if (context.options.database.has_value() && !*context.options.database) return std::nullopt;
  for (const repo::BackingService& service : analysis.services) {
    if (service.kind == repo::ServiceKind::kPostgresql) return std::string("postgres");
    if (service.kind == repo::ServiceKind::kMysql) return std::string("mysql");
  }
  if (context.options.database.value_or(false)) return std::string("postgres");
  return std::nullopt;
}

// Turns a provisioner event into a line for the user.
void forward_resource_event(const StageContext& context, const infra::ResourceEvent& event) {
  using Kind = infra::ResourceEvent::Kind;
  const char* agent = "Peter Provisioner";
  state::StageName stage = state::StageName::provision;
  switch (event.kind) {
    case Kind::kCreating:
      context.emit(progress(stage, agent, fmt::format("creating {} {}", event.resource_kind, event.resource)));
      break;
    case Kind::kWaiting: {
      std::chrono::seconds usual{0};
      if (event.resource_kind == "rds:db-instance") usual = std::chrono::minutes(7);
      if (event.resource_kind == "elasticloadbalancing:loadbalancer") usual = std::chrono::minutes(3);
      if (event.resource_kind == "ec2:instance") usual = std::chrono::seconds(30);
      context.emit({ConductorEvent::Kind::kWaiting, stage, agent, event.detail, event.elapsed, usual});
      break;
    }
    case Kind::kCreated:
      context.emit(progress(stage, agent, fmt::format("created {} {}", event.resource, event.physical_id)));
      break;
    case Kind::kAdopted:
      context.emit(
          progress(stage, agent, fmt::format("found {} {} from an earlier run", event.resource, event.physical_id)));
      break;
    case Kind::kReused:
      context.emit(progress(stage, agent, fmt::format("reusing {} {}", event.resource, event.physical_id)));
      break;
    case Kind::kCreateFailed:
      context.emit(progress(stage, agent, fmt::format("{} failed: {}", event.resource, event.detail)));
      break;
    default:
      break;
  }
}

// "postgresql://app@<endpoint>:5432/shop": how to reach the database,
// without its password, which stays in SSM.
std::string database_endpoint_text(const nlohmann::json& attributes) {
  std::string engine = attributes.value("engine", std::string());
  std::string scheme = engine == "mysql" || engine == "mariadb" ? "mysql" : "postgresql";
  std::string user = attributes.value("master_username", std::string());
  std::string name = attributes.value("database_name", std::string());
  return fmt::format("{}://{}{}:{}/{}", scheme, user.empty() ? "" : user + "@",
                     attributes.value("endpoint_address", std::string()), attributes.value("endpoint_port", 0), name);
}

// Stores the attributes that the report and `status` show: the load
// balancer's URL and the database endpoint, when the plan has them.
Status store_access_attributes(StageContext& context, const infra::PlanInputs& inputs) {
  Result<nlohmann::json> balancer = context.infra->attributes("load_balancer");
  if (balancer && balancer->contains("dns_name")) {
    std::string scheme = inputs.certificate_arn.empty() ? "http" : "https";
    Status url = context.store->set_attribute(
        context.deployment.id, "url", fmt::format("{}://{}", scheme, (*balancer)["dns_name"].get<std::string>()));
    if (!url) return url;
  }
  Result<nlohmann::json> database = context.infra->attributes("database");
  if (database && database->value("endpoint_address", std::string()) != "") {
    Status stored =
        context.store->set_attribute(context.deployment.id, "database_endpoint", database_endpoint_text(*database));
    if (!stored) return stored;
  }
  return ok_unit();
}

}  // namespace

Status run_analyze(StageContext& context) {
  const char* agent = "Randy Recon";
  context.emit(progress(state::StageName::analyze, agent, "opening " + context.options.source));
  Result<repo::SourceTree> source = repo::open_source(context.options.source, {context.options.ref, context.state_dir});
  if (!source) return fail(source.error());
  context.source = *source;

  context.emit(progress(state::StageName::analyze, agent, "analyzing " + source->root.string()));
  repo::AnalyzeOptions options;
  options.app_dir = context.options.app_dir;
  Result<repo::Analysis> analysis = repo::analyze(source->root, options);
  if (!analysis) return fail(analysis.error());
  if (analysis->needs_app_choice()) return fail(repo::app_choice_error(*analysis));
  context.analysis = std::move(*analysis);

  const repo::Analysis& found = *context.analysis;
  std::string summary = found.language.value;
  if (found.framework) summary += " / " + found.framework->value;
  if (found.primary_port() != 0) summary += fmt::format(", port {}", found.primary_port());
  if (!found.web_service.value) summary += ", no web port (worker)";
  for (const repo::BackingService& service : found.services)
    summary += std::string(", ") + repo::service_name(service.kind);
  context.emit({ConductorEvent::Kind::kNote, state::StageName::analyze, agent, summary});
  return ok_unit();
}

Status run_build(StageContext& context) {
  const char* agent = "Chris Compiler";
  build::BuildRequest request;
  request.source = *context.source;
  request.analysis = *context.analysis;
  request.state_dir = context.state_dir;
  request.app_name = context.deployment.app_name;
  request.on_event = [&context, agent](const build::BuildEvent& event) {
    context.emit(progress(state::StageName::build, agent, event.message));
  };
  Result<build::BuildResult> built = build::build_app(request);
  if (!built) return fail(built.error());
  context.build = std::move(*built);

  context.deployment.version = context.build->manifest.version;
  Status saved = context.store->update_deployment(context.deployment);
  if (!saved) return saved;
  context.emit({ConductorEvent::Kind::kNote, state::StageName::build, agent,
                fmt::format("artifact {}{}", context.build->artifact.filename().string(),
                            context.build->cache_hit ? " (cached)" : "")});
  return ok_unit();
}

Result<infra::PlanInputs> plan_inputs_for(const StageContext& context) {
  const repo::Analysis& analysis = *context.analysis;
  infra::PlanInputs inputs;
  inputs.deployment_id = context.deployment.id;
  inputs.app_name = context.deployment.app_name;
  inputs.region = context.deployment.region;
  inputs.web_service = analysis.web_service.value;
  inputs.app_port = analysis.primary_port();
  inputs.database = database_engine(context);
  inputs.runtime = analysis.language.value;
  if (analysis.runtime_version) inputs.runtime_version = analysis.runtime_version->value;
  inputs.instance_type = context.options.instance_type;
  inputs.ami = context.options.ami;
  inputs.certificate_arn = context.options.certificate_arn;
  inputs.health_check.path = analysis.health_check_path.value.empty() ? "/" : analysis.health_check_path.value;
  inputs.user_tags = context.options.tags;

  inputs.ssh_cidr = context.options.ssh_cidr;
  if (inputs.ssh_cidr.empty() && context.target == Target::kSandbox) inputs.ssh_cidr = kSandboxSshCidr;
  if (inputs.ssh_cidr.empty()) {
    // NOTE: detecting the deploying machine's public address needs a call to
    // an outside service, which HiveMind does not make on its own.
    return fail(make_error("conductor.missing_ssh_cidr",
                           "HiveMind needs the address that SSH to the instance comes from, to open port 22 to it "
                           "alone.",
                           "Pass --ssh-cidr with your public address as a /32, e.g. --ssh-cidr 203.0.113.7/32."));
  }
  return inputs;
}

nlohmann::json plan_inputs_to_json(const infra::PlanInputs& inputs) {
  nlohmann::json json = {{"deployment_id", inputs.deployment_id},
                         {"app_name", inputs.app_name},
                         {"region", inputs.region},
                         {"web_service", inputs.web_service},
                         {"app_port", inputs.app_port},
                         {"runtime", inputs.runtime},
                         {"runtime_version", inputs.runtime_version},
                         {"instance_type", inputs.instance_type},
                         {"ami", inputs.ami},
                         {"root_volume_gib", inputs.root_volume_gib},
                         {"db_instance_class", inputs.db_instance_class},
                         {"db_storage_gib", inputs.db_storage_gib},
                         {"certificate_arn", inputs.certificate_arn},
                         {"ssh_cidr", inputs.ssh_cidr},
                         {"log_retention_days", inputs.log_retention_days},
                         {"health_check_path", inputs.health_check.path},
                         {"user_tags", inputs.user_tags}};
  if (inputs.database) json["database"] = *inputs.database;
  return json;
}

Result<infra::PlanInputs> plan_inputs_from_json(const nlohmann::json& json) {
  try {
    infra::PlanInputs inputs;
    inputs.deployment_id = json.at("deployment_id").get<std::string>();
    inputs.app_name = json.at("app_name").get<std::string>();
    inputs.region = json.at("region").get<std::string>();
    inputs.web_service = json.at("web_service").get<bool>();
    inputs.app_port = json.at("app_port").get<int>();
    inputs.runtime = json.value("runtime", "");
    inputs.runtime_version = json.value("runtime_version", "");
    inputs.instance_type = json.value("instance_type", "t3.micro");
    inputs.ami = json.value("ami", "");
    inputs.root_volume_gib = json.value("root_volume_gib", 8);
    inputs.db_instance_class = json.value("db_instance_class", "db.t3.micro");
    inputs.db_storage_gib = json.value("db_storage_gib", 20);
    inputs.certificate_arn = json.value("certificate_arn", "");
    inputs.ssh_cidr = json.value("ssh_cidr", "");
    inputs.log_retention_days = json.value("log_retention_days", 14);
    inputs.health_check.path = json.value("health_check_path", "/");
    inputs.user_tags = json.value("user_tags", std::map<std::string, std::string>{});
    if (json.contains("database")) inputs.database = json["database"].get<std::string>();
    return inputs;
  } catch (const nlohmann::json::exception& error) {
    return fail(make_error("conductor.bad_plan_inputs",
                           fmt::format("The stored plan of the deployment is unreadable: {}", error.what()),
                           "Use `hivemind destroy <id>`, which finds the resources by tag instead."));
  }
}

Result<std::unique_ptr<infra::InfraContext>> infra_context_from_state(StageContext& context,
                                                                      const infra::WaitPolicy& wait) {
  Result<std::optional<std::string>> stored = context.store->attribute(context.deployment.id, "plan_inputs");
  if (!stored) return fail(stored.error());
  infra::PlanInputs inputs;
  if (stored->has_value()) {
    nlohmann::json json = nlohmann::json::parse(**stored, nullptr, false);
    Result<infra::PlanInputs> parsed = plan_inputs_from_json(json);
    if (!parsed) return fail(parsed.error());
    inputs = *parsed;
  } else {
    inputs.deployment_id = context.deployment.id;
    inputs.app_name = context.deployment.app_name;
    inputs.region = context.deployment.region;
    inputs.web_service = false;
  }
  Result<infra::Plan> plan = infra::build_plan(inputs);
  infra::Plan chosen = plan ? *plan : infra::Plan{};
  auto infra_context =
      std::make_unique<infra::InfraContext>(*context.client, *context.store, inputs, chosen, context.paths.root);
  infra_context->wait = wait;
  return infra_context;
}

Status run_provision(StageContext& context) {
  Result<infra::PlanInputs> inputs = plan_inputs_for(context);
  if (!inputs) return fail(inputs.error());
  Result<infra::Plan> plan = infra::build_plan(*inputs);
  if (!plan) return fail(plan.error());

  Status stored =
      context.store->set_attribute(context.deployment.id, "plan_inputs", plan_inputs_to_json(*inputs).dump());
  if (!stored) return stored;
  context.plan_inputs = *inputs;
  context.plan = *plan;

  if (!context.infra) {
    context.infra =
        std::make_unique<infra::InfraContext>(*context.client, *context.store, *inputs, *plan, context.paths.root);
  }
  context.infra->on_event = [&context](const infra::ResourceEvent& event) { forward_resource_event(context, event); };

  Result<infra::ProvisionResult> result = infra::provision(*context.infra);
  if (!result) return fail(result.error());
  if (!result->ok()) {
    std::vector<infra::ResourceFailure> failures = result->failures;
    if (!failures.empty()) {
      const infra::ResourceFailure& first = failures.front();
      context.failure = state::FailureInfo{"provisioner", first.action, first.aws_request_id, first.error.describe()};
      return fail(first.error);
    }
    for (const auto& [node, error] : result->walk.errors) return fail(error);
    return fail(make_error("conductor.provision_incomplete", "Provisioning stopped before every resource was created.",
                           "Run `hivemind retry <id>` to continue."));
  }

  if (Status stored = store_access_attributes(context, *inputs); !stored) return stored;
  context.emit(
      {ConductorEvent::Kind::kNote, state::StageName::provision, "Peter Provisioner",
       fmt::format("{} resources, about ${:.2f} a month (estimate)", plan->resources.size(), plan->monthly_usd())});
  return ok_unit();
}

}  // namespace hivemind::conductor
