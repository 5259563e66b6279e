#include "cli/deployment_view.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <map>
#include <vector>

#include "report/report.h"

namespace hivemind::cli {
namespace {

using Kind = conductor::ConductorEvent::Kind;

nlohmann::json resource_json(const state::Resource& resource) {
  return {{"logical_name", resource.logical_name},
          {"kind", resource.kind},
          {"physical_id", resource.physical_id},
          {"status", state::to_string(resource.status)},
          {"estimated_monthly_cost_usd", resource.estimated_monthly_cost_usd}};
}

// The latest result of each check, in the order the checks first ran: a
// later `hivemind verify` replaces the deploy's result of the same check.
nlohmann::json latest_verifications_json(const state::Store& store, const std::string& deployment_id) {
  nlohmann::json list = nlohmann::json::array();
  auto rows = store.verifications(deployment_id);
  if (!rows) return list;
  std::vector<std::string> order;
  std::map<std::string, const state::VerificationResult*> latest;
  for (const state::VerificationResult& row : *rows) {
    if (latest.find(row.check) == latest.end()) order.push_back(row.check);
    latest[row.check] = &row;
  }
  for (const std::string& check : order) {
    const state::VerificationResult& row = *latest[check];
    list.push_back({{"check", row.check},
                    {"passed", row.passed},
                    {"checked", state::was_checked(row)},
                    {"label", state::verification_label(row)},
                    {"detail", row.detail},
                    {"checked_at",
                     fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(row.checked_at))}});
  }
  return list;
}

}  // namespace

conductor::ConductorEventSink progress_printer(Ui& ui, std::function<void(const std::string&)> on_created) {
  return [&ui, on_created = std::move(on_created)](const conductor::ConductorEvent& event) {
    switch (event.kind) {
      case Kind::kDeploymentCreated:
        if (on_created) on_created(event.text);
        ui.info(fmt::format("Deployment {}", ui.paint(event.text, Color::kBold)));
        break;
      case Kind::kStageStarted:
        ui.start_spinner(fmt::format("{}: {}", event.agent, event.text));
        break;
      case Kind::kProgress:
        ui.start_spinner(fmt::format("{}: {}", event.agent, event.text));
        break;
      case Kind::kWaiting:
        ui.start_spinner(fmt::format("{}: {}", event.agent, event.text), event.usual);
        break;
      case Kind::kNote:
        ui.info(ui.paint(fmt::format("  {}: {}", event.agent, event.text), Color::kGray));
        break;
      case Kind::kStageSucceeded:
        ui.success(
            fmt::format("{} ({}) {}", event.text, event.agent, ui.paint(format_duration(event.elapsed), Color::kGray)));
        break;
      case Kind::kStageFailed:
        ui.error(fmt::format("{} failed ({})", state::to_string(event.stage), event.agent));
        break;
    }
  };
}

double monthly_cost_usd(const std::vector<state::Resource>& resources) {
  double total = 0.0;
  for (const state::Resource& resource : resources) {
    if (resource.status == state::ResourceStatus::deleted) continue;
    total += resource.estimated_monthly_cost_usd;
  }
  return total;
}

void print_failure(Ui& ui, const state::Deployment& deployment) {
  std::string stage = deployment.failed_stage ? std::string(state::to_string(*deployment.failed_stage)) : "unknown";
  ui.error(fmt::format("Deployment {} failed at the {} stage.", deployment.id, stage));
  if (deployment.failure) {
    const state::FailureInfo& failure = *deployment.failure;
    if (!failure.agent.empty()) ui.info(fmt::format("  Agent:      {}", failure.agent));
    if (!failure.action.empty()) ui.info(fmt::format("  Action:     {}", failure.action));
    if (!failure.aws_request_id.empty()) ui.info(fmt::format("  Request id: {}", failure.aws_request_id));
    ui.info(fmt::format("  Error:      {}", failure.message));
  }

  if (deployment.status == state::DeploymentStatus::rolled_back) {
    ui.info("Everything it created was deleted (status rolled_back). Fix the cause and deploy again.");
  } else {
    ui.info(
        fmt::format("Its resources were kept (status {}). Run `hivemind retry {}` to resume at the {} stage, "
                    "or `hivemind destroy {}` to delete everything.",
                    state::to_string(deployment.status), deployment.id, stage, deployment.id));
  }
}

nlohmann::json deployment_json(const state::Store& store, const state::Deployment& deployment) {
  nlohmann::json json{{"id", deployment.id},
                      {"app", deployment.app_name},
                      {"status", state::to_string(deployment.status)},
                      {"version", deployment.version},
                      {"region", deployment.region},
                      {"target", state::to_string(deployment.endpoint_kind)},
                      {"retry_count", deployment.retry_count}};
  if (deployment.failed_stage) json["failed_stage"] = state::to_string(*deployment.failed_stage);
  if (deployment.failure) {
    json["failure"] = {{"agent", deployment.failure->agent},
                       {"action", deployment.failure->action},
                       {"aws_request_id", deployment.failure->aws_request_id},
                       {"message", deployment.failure->message}};
  }

  auto attributes = store.attributes(deployment.id);
  if (attributes) {
    for (const char* key : {"url", "ssh_command", "report_path", "dashboard_url"}) {
      auto found = attributes->find(key);
      if (found != attributes->end()) json[key] = found->second;
    }
    auto database = attributes->find("database_endpoint");
    if (database != attributes->end()) json["database_endpoint"] = report::strip_credentials(database->second);
  }

  auto resources = store.resources(deployment.id);
  nlohmann::json resource_list = nlohmann::json::array();
  if (resources) {
    for (const state::Resource& resource : *resources) resource_list.push_back(resource_json(resource));
    json["monthly_cost_usd"] = monthly_cost_usd(*resources);
  }
  json["resources"] = resource_list;
  json["verifications"] = latest_verifications_json(store, deployment.id);
  return json;
}

std::string format_age(state::TimePoint time) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - time).count();
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m", seconds / 60);
  if (seconds < 86400) return fmt::format("{}h", seconds / 3600);
  return fmt::format("{}d", seconds / 86400);
}

}  // namespace hivemind::cli
