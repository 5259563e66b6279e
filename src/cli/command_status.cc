// `hivemind status | list | logs | report`: read-only views of the local
// state. They make no AWS call, so they work offline and return at once,
// except the live views of `status <id>` (--show-logs, --show-metrics,
// --show-costs, --check) in status_live.cc, and `report`, which adds the
// same logs, metrics and costs to the report when the target answers.

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "aws/curl_transport.h"
#include "cli/commands.h"
#include "cli/conductor_setup.h"
#include "cli/deployment_view.h"
#include "cli/status_live.h"
#include "cli/ui.h"
#include "conductor/eye_report.h"
#include "report/report.h"
#include "state/lock.h"
#include "state/paths.h"
#include "state/store.h"

namespace hivemind::cli {
namespace {

struct StatusFlags {
  std::string deployment_id;
  bool report = false;
  LiveStatusFlags live;
  std::string command = "status";  // "status" or "list", as error messages name it
};

std::unique_ptr<state::Store> open_store(const GlobalOptions& global, Ui& ui, const std::string& command) {
  state::StoreOptions options;
  options.state_dir = global.state_dir;
  auto store = state::Store::open(options);
  if (!store) {
    ui.error(fmt::format("hivemind {}: {}", command, store.error().describe()));
    return nullptr;
  }
  return std::move(*store);
}

// Copies a file to standard output; false when it cannot be read.
bool print_file(const std::filesystem::path& file) {
  std::ifstream input(file, std::ios::binary);
  if (!input) return false;
  std::cout << input.rdbuf() << std::flush;
  return true;
}

int print_table(const GlobalOptions& global, Ui& ui, state::Store& store, const std::string& command) {
  auto deployments = store.list_deployments();
  if (!deployments) {
    ui.error(fmt::format("hivemind {}: {}", command, deployments.error().describe()));
    return kExitFailure;
  }
  if (global.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const state::Deployment& deployment : *deployments) list.push_back(deployment_json(store, deployment));
    std::cout << list.dump(2) << "\n";
    return kExitSuccess;
  }
  if (deployments->empty()) {
    ui.info(fmt::format("No deployments in {}. Start one with `hivemind deploy <repo>`.", global.state_dir));
    return kExitSuccess;
  }
  ui.info(fmt::format("{:<30} {:<16} {:<13} {:<10} {:>5}  {}", "ID", "APP", "STATUS", "STAGE", "AGE", "URL"));
  for (const state::Deployment& deployment : *deployments) {
    std::string stage;
    auto runs = store.stage_runs(deployment.id);
    if (runs && !runs->empty()) stage = std::string(state::to_string(runs->back().stage));
    auto url = store.attribute(deployment.id, "url");
    ui.info(fmt::format("{:<30} {:<16} {:<13} {:<10} {:>5}  {}", deployment.id, deployment.app_name,
                        state::to_string(deployment.status), stage, format_age(deployment.created_at),
                        url && *url ? **url : "-"));
  }
  return kExitSuccess;
}

// Returns the command that continues a deployment left in an in-progress
// status by a process that no longer holds its lock (killed, or its host
// rebooted). Returns "" for a settled status or a lock held by a live
// process. It only reads the lock file and never takes the lock.
std::string interrupted_next_command(const GlobalOptions& global, const state::Deployment& deployment) {
  std::string command;
  switch (deployment.status) {
    case state::DeploymentStatus::pending:
    case state::DeploymentStatus::deploying:
      command = "retry";
      break;
    case state::DeploymentStatus::updating:
      command = "update";
      break;
    case state::DeploymentStatus::rolling_back:
      command = "rollback";
      break;
    case state::DeploymentStatus::destroying:
      command = "destroy";
      break;
    default:
      return "";
  }
  auto holder = state::read_lock_holder(global.state_dir, deployment.id);
  if (!holder || *holder) return "";  // held by a live process, or unreadable: no hint
  return fmt::format("hivemind {} {}", command, deployment.id);
}

void print_stage_runs(Ui& ui, const std::vector<state::StageRun>& runs, bool interrupted) {
  ui.info("Stages:");
  for (const state::StageRun& run : runs) {
    std::string outcome(state::to_string(run.outcome));
    std::string duration = run.finished_at ? format_duration(run.duration()) : "running";
    if (!run.finished_at && interrupted) {
      outcome = "interrupted";
      duration = "-";
    }
    ui.info(fmt::format("  {:<10} attempt {}  {:<11} {}", state::to_string(run.stage), run.attempt, outcome, duration));
  }
}

void print_details(const GlobalOptions& global, Ui& ui, state::Store& store, const state::Deployment& deployment) {
  nlohmann::json json = deployment_json(store, deployment);
  std::string next = interrupted_next_command(global, deployment);
  ui.info(fmt::format("Deployment {} ({})", deployment.id, deployment.app_name));
  if (next.empty()) {
    ui.info(fmt::format("  Status:  {}", state::to_string(deployment.status)));
  } else {
    ui.info(fmt::format("  Status:  {}, interrupted: no hivemind process holds its lock. Continue with `{}`.",
                        state::to_string(deployment.status), next));
  }
  if (!deployment.version.empty()) ui.info(fmt::format("  Version: {}", deployment.version));
  ui.info(fmt::format("  Target:  {}, region {}", state::to_string(deployment.endpoint_kind), deployment.region));
  for (const auto& [key, label] : {std::pair{"url", "URL:     "}, std::pair{"database_endpoint", "Database:"},
                                   std::pair{"dashboard_url", "Dashboard:"}}) {
    if (json.contains(key)) ui.info(fmt::format("  {} {}", label, json[key].get<std::string>()));
  }
  if (deployment.failed_stage && deployment.failure) {
    ui.info(fmt::format("  Failed:  {} stage, {}: {}", state::to_string(*deployment.failed_stage),
                        deployment.failure->agent, deployment.failure->message));
  }

  auto runs = store.stage_runs(deployment.id);
  if (runs && !runs->empty()) print_stage_runs(ui, *runs, !next.empty());

  auto resources = store.resources(deployment.id);
  if (resources && !resources->empty()) {
    ui.info(fmt::format("Resources (about ${:.2f} a month):", monthly_cost_usd(*resources)));
    for (const state::Resource& resource : *resources) {
      ui.info(fmt::format("  {:<28} {:<26} {:<24} {:<13} ${:.2f}", resource.logical_name, resource.kind,
                          resource.physical_id, state::to_string(resource.status),
                          resource.estimated_monthly_cost_usd));
    }
  }

  // The latest result of each check: a `hivemind verify` replaces the deploy's.
  const nlohmann::json& checks = json["verifications"];
  if (!checks.empty()) {
    ui.info("Verification:");
    for (const nlohmann::json& check : checks) {
      // Lines after the first line of a detail go under the row, indented.
      std::string detail = check["detail"].get<std::string>();
      for (std::size_t at = detail.find('\n'); at != std::string::npos; at = detail.find('\n', at + 1)) {
        detail.insert(at + 1, "      ");
      }
      ui.info(fmt::format("  {:<11} {:<36} {}", check["label"].get<std::string>(), check["check"].get<std::string>(),
                          detail));
    }
  }
}

int run_status(const GlobalOptions& global, const StatusFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto store = open_store(global, ui, flags.command);
  if (!store) return kExitFailure;
  if (flags.deployment_id.empty()) return print_table(global, ui, *store, flags.command);

  auto deployment = store->find_deployment(flags.deployment_id);
  if (!deployment) {
    ui.error("hivemind status: " + deployment.error().describe());
    if (global.json) print_json_failure(deployment.error());
    return kExitFailure;
  }
  if (flags.report) {
    auto report = store->attribute(flags.deployment_id, "report_path");
    if (!report || !*report || !print_file(**report)) {
      ui.error(fmt::format("hivemind status --report: deployment {} has no readable report. Run `hivemind report {}`.",
                           flags.deployment_id, flags.deployment_id));
      return kExitFailure;
    }
    return kExitSuccess;
  }
  if (wants_live_status(flags.live)) return run_live_status(global, flags.live, *store, *deployment);
  if (global.json) {
    nlohmann::json json = deployment_json(*store, *deployment);
    std::string next = interrupted_next_command(global, *deployment);
    json["interrupted"] = !next.empty();
    if (!next.empty()) json["next_command"] = next;
    std::cout << json.dump(2) << "\n";
  } else {
    print_details(global, ui, *store, *deployment);
  }
  return kExitSuccess;
}

int run_logs(const GlobalOptions& global, const StatusFlags& flags) {
  Ui ui(!global.no_color, false);
  if (!state::is_valid_deployment_id(flags.deployment_id)) {
    std::string message =
        fmt::format("\"{}\" is not a deployment id. Run `hivemind list` to see the ids.", flags.deployment_id);
    ui.error("hivemind logs: " + message);
    if (global.json) print_json_failure(make_error("cli.invalid_deployment_id", message));
    return kExitFailure;
  }
  std::filesystem::path file = state::deployment_paths(global.state_dir, flags.deployment_id).logs / "hivemind.log";
  if (!print_file(file)) {
    std::string message =
        fmt::format("no log at {}. Check the id with `hivemind list` and --state-dir.", file.string());
    ui.error("hivemind logs: " + message);
    if (global.json) print_json_failure(make_error("cli.no_log", message));
    return kExitFailure;
  }
  return kExitSuccess;
}

int run_report(const GlobalOptions& global, const StatusFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto store = open_store(global, ui, "report");
  if (!store) return kExitFailure;

  std::vector<report::LiveSection> live;
  auto deployment = store->find_deployment(flags.deployment_id);
  if (deployment) {
    configure_command_log(global, flags.deployment_id);
    Result<aws::ClientConfig> config = live_client_config(global, *deployment);
    if (config) {
      aws::AwsClient client(*config, std::make_shared<aws::CurlTransport>());
      live = conductor::eye_report_sections(client, *store, flags.deployment_id, config->region);
    } else {
      ui.warning("hivemind report: writing the report without logs, metrics and actual costs: " +
                 config.error().describe());
    }
  }
  Result<std::filesystem::path> written = report::write_report(*store, flags.deployment_id, std::move(live));
  if (!written) {
    ui.error("hivemind report: " + written.error().describe());
    if (global.json) print_json_failure(written.error());
    return kExitFailure;
  }
  if (global.json) {
    std::cout << nlohmann::json{{"report_path", written->string()}}.dump(2) << "\n";
  } else {
    ui.success(fmt::format("Report of {} written to {}", flags.deployment_id, written->string()));
  }
  return kExitSuccess;
}

constexpr const char* kCheckHelp =
    "Exit 1 when there are new critical errors (stack traces, FATAL, out-of-memory kills, HTTP 5xx) or failing "
    "health (an alarm in state ALARM, an unhealthy target), for cron and CI. An error group is new when the "
    "previous --check of this deployment did not see it, or saw it last at an earlier time. Each check stores "
    "what it saw in the deployment's state (attribute last_check); the first check looks back over --since";

void add_live_status_options(CLI::App& status, LiveStatusFlags& live) {
  CLI::Option* id = status.get_option("id");
  status.add_flag("--show-logs", live.logs, "Show the app's recent log lines and error groups from CloudWatch Logs")
      ->needs(id);
  status.add_flag("--show-metrics", live.metrics, "Show CPU, memory, disk, network, requests, errors and latency")
      ->needs(id);
  status.add_flag("--show-costs", live.costs, "Show the month-to-date actual cost beside the estimated run rate")
      ->needs(id);
  status.add_flag("--check", live.check, kCheckHelp)->needs(id);
  status.add_option("--since", live.since, "Window of logs and metrics: a number and s, m, h or d")
      ->capture_default_str();
  status.add_option("--filter", live.filter, "Show only log lines that contain this text (case-sensitive)");
  status.add_option("--lines", live.lines, "Number of log lines to show")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  status.add_flag("--follow", live.follow, "Keep printing new log lines every 2 s until Ctrl-C (with --show-logs)")
      ->needs(id);
}

}  // namespace

void add_status_commands(CLI::App& app, CommandContext& context) {
  auto status_flags = std::make_shared<StatusFlags>();
  CLI::App* status = app.add_subcommand("status", "Show one deployment, or a table of all of them");
  status->add_option("id", status_flags->deployment_id, "Deployment id (default: all deployments)");
  status->add_flag("--report", status_flags->report, "Print the deployment's report file")
      ->needs(status->get_option("id"));
  add_live_status_options(*status, status_flags->live);
  status->callback([&context, status_flags] {
    context.action = [&context, status_flags] { return run_status(context.global, *status_flags); };
  });

  auto list_flags = std::make_shared<StatusFlags>();
  list_flags->command = "list";
  CLI::App* list = app.add_subcommand("list", "List the deployments in the state folder");
  list->callback([&context, list_flags] {
    context.action = [&context, list_flags] { return run_status(context.global, *list_flags); };
  });

  auto logs_flags = std::make_shared<StatusFlags>();
  CLI::App* logs = app.add_subcommand("logs", "Print a deployment's own log");
  logs->add_option("id", logs_flags->deployment_id, "Deployment id")->required();
  logs->callback([&context, logs_flags] {
    context.action = [&context, logs_flags] { return run_logs(context.global, *logs_flags); };
  });

  auto report_flags = std::make_shared<StatusFlags>();
  CLI::App* report = app.add_subcommand("report", "Write a deployment's report again");
  report->add_option("id", report_flags->deployment_id, "Deployment id")->required();
  report->callback([&context, report_flags] {
    context.action = [&context, report_flags] { return run_report(context.global, *report_flags); };
  });
}

}  // namespace hivemind::cli
