// `hivemind retry | rollback | destroy | janitor | update`: the commands that
// change an existing deployment through the Conductor. Teardowns list what
// they will delete with its monthly cost and ask before deleting.

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/conductor_setup.h"
#include "cli/deployed_summary.h"
#include "cli/deployment_view.h"
#include "cli/ui.h"
#include "infra/console.h"
#include "infra/discovery.h"

namespace hivemind::cli {
namespace {

struct LifecycleFlags {
  std::string deployment_id;
  std::string target = "auto";
  bool snapshot = false;
  bool skip_final_snapshot = false;
  bool orphans = false;
  bool clean = false;
  std::string version;
  bool rolling = false;
};

// Opens a Conductor for one command on an existing deployment; prints the
// target, and the error when it cannot.
std::unique_ptr<conductor::Conductor> open_conductor(const GlobalOptions& global, const LifecycleFlags& flags, Ui& ui,
                                                     const std::string& command) {
  configure_command_log(global, state::is_valid_deployment_id(flags.deployment_id) ? flags.deployment_id : "");
  TargetChoice choice = parse_target_choice(flags.target).value_or(TargetChoice::kAuto);
  Result<ResolvedTarget> target = resolve_target(global, choice, false);
  if (!target) {
    ui.error(fmt::format("hivemind {}: {}", command, target.error().describe()));
    if (global.json) print_json_failure(target.error());
    return nullptr;
  }
  ui.info(fmt::format("Target: {}", target->description));
  std::string command_line = fmt::format("hivemind {} {}", command, flags.deployment_id);
  auto conductor =
      conductor::Conductor::open(make_conductor_setup(global, *target, progress_printer(ui, {}), command_line));
  if (!conductor) {
    ui.error(fmt::format("hivemind {}: {}", command, conductor.error().describe()));
    if (global.json) print_json_failure(conductor.error());
    return nullptr;
  }
  return std::move(*conductor);
}

void list_resources(Ui& ui, const std::vector<state::Resource>& resources) {
  for (const state::Resource& resource : resources) {
    ui.info(fmt::format("  {:<28} {:<34} {:<24} ${:.2f}/month", resource.logical_name, resource.kind,
                        resource.physical_id, resource.estimated_monthly_cost_usd));
  }
}

void list_untracked(Ui& ui, const std::vector<infra::DiscoveredResource>& resources) {
  for (const infra::DiscoveredResource& resource : resources) {
    ui.info(fmt::format("  {:<28} {:<26} {:<24} (found by tag, not in the state)", resource.logical_name, resource.kind,
                        resource.physical_id));
  }
}

// Prints what a teardown deleted and what it left, with the way out.
int print_teardown(Ui& ui, const GlobalOptions& global, const conductor::TeardownSummary& summary,
                   const std::string& command, const std::string& deployment_id, const std::string& region) {
  if (global.json) {
    nlohmann::json deleted = nlohmann::json::array();
    for (const state::Resource& resource : summary.deleted) deleted.push_back(resource.physical_id);
    nlohmann::json gone = nlohmann::json::array();
    for (const state::Resource& resource : summary.already_gone) gone.push_back(resource.physical_id);
    nlohmann::json remaining = nlohmann::json::object();
    for (const state::Resource& resource : summary.remaining) {
      auto error = summary.errors.find(resource.logical_name);
      remaining[resource.physical_id] = error == summary.errors.end() ? "" : error->second;
    }
    std::cout << nlohmann::json{{"ok", summary.ok()},
                                {"deleted", deleted},
                                {"already_gone", gone},
                                {"not_deleted", remaining},
                                {"monthly_savings_usd", summary.monthly_savings_usd}}
                     .dump(2)
              << "\n";
    return summary.ok() ? kExitSuccess : kExitFailure;
  }

  for (const state::Resource& resource : summary.deleted) {
    ui.success(fmt::format("deleted {} {} ({})", resource.kind, resource.physical_id, resource.logical_name));
  }
  for (const state::Resource& resource : summary.already_gone) {
    ui.info(fmt::format("  already gone {} {} ({}), not counted in the savings", resource.kind, resource.physical_id,
                        resource.logical_name));
  }
  for (const state::Resource& resource : summary.remaining) {
    auto error = summary.errors.find(resource.logical_name);
    ui.error(fmt::format("not deleted {} {} ({}): {}", resource.kind, resource.physical_id, resource.logical_name,
                         error == summary.errors.end() ? "unknown error" : error->second));
    std::string page = infra::console_url(resource.kind, resource.physical_id, region);
    if (!page.empty()) ui.info("    console: " + page);
  }
  if (!summary.ok()) {
    ui.info(
        fmt::format("Some resources remain. Fix the errors above, then run `hivemind {} {}` again, or "
                    "`hivemind destroy {}` to find and delete them by tag.",
                    command, deployment_id, deployment_id));
    return kExitFailure;
  }
  std::string unpriced = summary.untracked.empty() ? "" : " Resources found only by tag have no recorded cost.";
  ui.info(fmt::format("Saves about ${:.2f} a month (estimate).{}", summary.monthly_savings_usd, unpriced));
  return kExitSuccess;
}

int run_retry(const GlobalOptions& global, const LifecycleFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto conductor = open_conductor(global, flags, ui, "retry");
  if (!conductor) return kExitFailure;

  Result<state::Deployment> deployment = conductor->retry(flags.deployment_id);
  ui.stop_spinner();
  if (!deployment) {
    ui.error("hivemind retry: " + deployment.error().describe());
    if (global.json) print_json_failure(deployment.error());
    return kExitFailure;
  }
  bool deployed = deployment->status == state::DeploymentStatus::deployed;
  if (global.json) {
    nlohmann::json json = deployment_json(conductor->store(), *deployment);
    json["ok"] = deployed;
    add_sandbox_url(json, global.state_dir);
    std::cout << json.dump(2) << "\n";
  } else if (deployed) {
    ui.success(fmt::format("Deployment {} is deployed.", deployment->id));
    print_deployed(ui, deployment_json(conductor->store(), *deployment), global.state_dir);
  } else {
    print_failure(ui, *deployment);
  }
  return deployed ? kExitSuccess : kExitFailure;
}

int run_rollback(const GlobalOptions& global, const LifecycleFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto conductor = open_conductor(global, flags, ui, "rollback");
  if (!conductor) return kExitFailure;

  Result<conductor::TeardownPreview> preview = conductor->preview_rollback(flags.deployment_id);
  if (!preview) {
    ui.error("hivemind rollback: " + preview.error().describe());
    if (global.json) print_json_failure(preview.error());
    return kExitFailure;
  }
  ui.info(fmt::format("Rollback of {} deletes {} resources (about ${:.2f} a month):", flags.deployment_id,
                      preview->resources.size(), preview->monthly_usd));
  list_resources(ui, preview->resources);

  Result<bool> confirmed = ui.confirm(fmt::format("Delete these resources of {}?", flags.deployment_id), global.yes);
  if (!confirmed) {
    ui.error("hivemind rollback: " + confirmed.error().describe() + " Nothing was deleted.");
    return kExitFailure;
  }
  if (!*confirmed) {
    ui.info("Nothing was deleted.");
    return kExitFailure;
  }

  Result<conductor::TeardownSummary> summary = conductor->rollback(flags.deployment_id);
  ui.stop_spinner();
  if (!summary) {
    ui.error("hivemind rollback: " + summary.error().describe());
    if (global.json) print_json_failure(summary.error());
    return kExitFailure;
  }
  return print_teardown(ui, global, *summary, "rollback", flags.deployment_id, conductor->client().config().region);
}

// Asks whether databases get a final snapshot, unless a flag decided it.
Result<bool> final_snapshot_choice(Ui& ui, const GlobalOptions& global, const LifecycleFlags& flags,
                                   const conductor::TeardownPreview& preview) {
  if (flags.snapshot) return true;
  if (flags.skip_final_snapshot) return false;
  bool has_database = false;
  for (const state::Resource& resource : preview.resources) has_database |= resource.kind == "rds:db-instance";
  for (const infra::DiscoveredResource& resource : preview.untracked)
    has_database |= resource.kind == "rds:db-instance";
  if (!has_database) return false;
  if (global.yes) return true;  // keeping the data is the safe default
  return ui.confirm("Take a final snapshot of the database before deleting it?", false);
}

int run_destroy(const GlobalOptions& global, const LifecycleFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto conductor = open_conductor(global, flags, ui, "destroy");
  if (!conductor) return kExitFailure;

  Result<conductor::TeardownPreview> preview = conductor->preview_destroy(flags.deployment_id);
  if (!preview) {
    ui.error("hivemind destroy: " + preview.error().describe());
    if (global.json) print_json_failure(preview.error());
    return kExitFailure;
  }
  ui.info(fmt::format("Destroy of {} deletes {} recorded and {} untracked resources (about ${:.2f} a month):",
                      flags.deployment_id, preview->resources.size(), preview->untracked.size(), preview->monthly_usd));
  list_resources(ui, preview->resources);
  list_untracked(ui, preview->untracked);
  if (preview->resources.empty() && preview->untracked.empty()) ui.info("  (nothing found)");

  Result<bool> confirmed = ui.confirm(fmt::format("Destroy {}?", flags.deployment_id), global.yes);
  if (!confirmed) {
    ui.error("hivemind destroy: " + confirmed.error().describe() + " Nothing was deleted.");
    return kExitFailure;
  }
  if (!*confirmed) {
    ui.info("Nothing was deleted.");
    return kExitFailure;
  }
  Result<bool> snapshot = final_snapshot_choice(ui, global, flags, *preview);
  if (!snapshot) {
    ui.error("hivemind destroy: " + snapshot.error().describe() +
             " Or pass --snapshot or --skip-final-snapshot. Nothing was deleted.");
    return kExitFailure;
  }

  Result<conductor::TeardownSummary> summary = conductor->destroy(flags.deployment_id, *snapshot);
  ui.stop_spinner();
  if (!summary) {
    ui.error("hivemind destroy: " + summary.error().describe());
    if (global.json) print_json_failure(summary.error());
    return kExitFailure;
  }
  if (summary->ok() && !global.json) ui.success(fmt::format("Nothing tagged with {} remains.", flags.deployment_id));
  return print_teardown(ui, global, *summary, "destroy", flags.deployment_id, conductor->client().config().region);
}

// Orphans: tagged resources whose deployment is missing from the state, or
// recorded there as failed, rolled back or destroyed. Keyed by deployment id.
std::map<std::string, std::vector<infra::DiscoveredResource>> find_orphans(
    conductor::Conductor& conductor, const std::vector<infra::DiscoveredResource>& tagged) {
  std::map<std::string, std::vector<infra::DiscoveredResource>> orphans;
  for (const infra::DiscoveredResource& resource : tagged) {
    Result<state::Deployment> known = conductor.store().find_deployment(resource.deployment_id);
    bool orphaned = !known || known->status == state::DeploymentStatus::failed ||
                    known->status == state::DeploymentStatus::rolled_back ||
                    known->status == state::DeploymentStatus::destroyed;
    if (orphaned) orphans[resource.deployment_id].push_back(resource);
  }
  return orphans;
}

// The recorded monthly cost of a resource, when the state has it.
double recorded_cost(conductor::Conductor& conductor, const infra::DiscoveredResource& resource) {
  auto recorded = conductor.store().resources(resource.deployment_id);
  if (!recorded) return 0.0;
  for (const state::Resource& known : *recorded) {
    if (known.physical_id == resource.physical_id) return known.estimated_monthly_cost_usd;
  }
  return 0.0;
}

int run_janitor(const GlobalOptions& global, const LifecycleFlags& flags) {
  Ui ui(!global.no_color, global.json);
  if (!flags.orphans) {
    ui.error(
        "hivemind janitor: nothing to do. Pass --orphans to list resources left by failed or unknown "
        "deployments, and --clean to delete them.");
    return kExitUsage;
  }
  auto conductor = open_conductor(global, flags, ui, "janitor");
  if (!conductor) return kExitFailure;

  auto tagged = infra::discover(conductor->client(), "");
  if (!tagged) {
    ui.error("hivemind janitor: " + tagged.error().to_error().describe());
    return kExitFailure;
  }
  auto orphans = find_orphans(*conductor, *tagged);

  nlohmann::json json = nlohmann::json::object();
  double total = 0.0;
  for (const auto& [deployment_id, resources] : orphans) {
    ui.info(fmt::format("{} ({} resources):", deployment_id, resources.size()));
    for (const infra::DiscoveredResource& resource : resources) {
      double cost = recorded_cost(*conductor, resource);
      total += cost;
      std::string price = cost > 0 ? fmt::format("${:.2f}/month", cost) : "cost unknown";
      ui.info(fmt::format("  {:<26} {:<24} {}", resource.kind, resource.physical_id, price));
      json[deployment_id].push_back({{"kind", resource.kind}, {"physical_id", resource.physical_id}, {"cost", cost}});
    }
  }
  if (orphans.empty())
    ui.info("No orphaned resources found.");
  else
    ui.info(fmt::format("Known cost of the orphans: about ${:.2f} a month (estimate).", total));
  if (global.json) std::cout << nlohmann::json{{"orphans", json}, {"monthly_cost_usd", total}}.dump(2) << "\n";
  if (!flags.clean || orphans.empty()) return kExitSuccess;

  Result<bool> confirmed = ui.confirm(fmt::format("Delete the orphans of {} deployments?", orphans.size()), global.yes);
  if (!confirmed || !*confirmed) {
    ui.error(confirmed ? std::string("Nothing was deleted.") : confirmed.error().describe() + " Nothing was deleted.");
    return kExitFailure;
  }
  int exit_code = kExitSuccess;
  for (const auto& [deployment_id, resources] : orphans) {
    Result<conductor::TeardownSummary> summary = conductor->destroy(deployment_id, false);
    if (!summary) {
      ui.error(fmt::format("hivemind janitor: destroy of {} failed: {}", deployment_id, summary.error().describe()));
      exit_code = kExitFailure;
      continue;
    }
    if (print_teardown(ui, global, *summary, "destroy", deployment_id, conductor->client().config().region) !=
        kExitSuccess) {
      exit_code = kExitFailure;
    }
  }
  return exit_code;
}

std::string update_plan_text(const state::Deployment& deployment, const LifecycleFlags& flags) {
  std::string target =
      flags.version.empty() ? "its source as it is now (the ref it was deployed from)" : "ref " + flags.version;
  if (flags.rolling) {
    return fmt::format(
        "Rolling update of {} (version {}) to {}: installs it in place on the serving instance and restarts the "
        "app, so requests may fail while it restarts.",
        deployment.id, deployment.version, target);
  }
  return fmt::format(
      "Blue-green update of {} (version {}) to {}: launches a second instance (billed while both run), switches "
      "the load balancer to it once it is healthy, then terminates the old instance.",
      deployment.id, deployment.version, target);
}

void print_update(Ui& ui, const GlobalOptions& global, conductor::Conductor& conductor,
                  const conductor::UpdateSummary& summary) {
  if (global.json) {
    nlohmann::json json = deployment_json(conductor.store(), summary.deployment);
    json["ok"] = true;
    json["update"] = {{"strategy", summary.strategy},
                      {"previous_version", summary.previous_version},
                      {"version", summary.deployment.version},
                      {"previous_instance", summary.previous_instance},
                      {"current_instance", summary.current_instance},
                      {"duration_ms", summary.duration.count()}};
    std::cout << json.dump(2) << "\n";
    return;
  }
  ui.success(fmt::format("Deployment {} runs version {} on instance {} ({} update in {}).", summary.deployment.id,
                         summary.deployment.version, summary.current_instance, summary.strategy,
                         format_duration(summary.duration)));
  if (summary.previous_instance != summary.current_instance) {
    ui.info(fmt::format("Version {} on instance {} was retired.", summary.previous_version, summary.previous_instance));
  }
}

int run_update(const GlobalOptions& global, const LifecycleFlags& flags) {
  Ui ui(!global.no_color, global.json);
  auto conductor = open_conductor(global, flags, ui, "update");
  if (!conductor) return kExitFailure;

  Result<state::Deployment> deployment = conductor->store().find_deployment(flags.deployment_id);
  // An invalid id, an unknown one or a deployment that is not deployed gets
  // its error from update() itself, without a question first.
  if (deployment && deployment->status == state::DeploymentStatus::deployed) {
    ui.info(update_plan_text(*deployment, flags));
    Result<bool> confirmed = ui.confirm(fmt::format("Update {}?", flags.deployment_id), global.yes);
    if (!confirmed) {
      ui.error("hivemind update: " + confirmed.error().describe() + " Nothing was changed.");
      return kExitFailure;
    }
    if (!*confirmed) {
      ui.info("Nothing was changed.");
      return kExitFailure;
    }
  }

  Result<conductor::UpdateSummary> summary = conductor->update(flags.deployment_id, {flags.version, flags.rolling});
  ui.stop_spinner();
  if (!summary) {
    if (global.json) {
      std::cout
          << nlohmann::json{{"ok", false}, {"id", flags.deployment_id}, {"error", summary.error().describe()}}.dump(2)
          << "\n";
    }
    ui.error("hivemind update: " + summary.error().describe());
    return kExitFailure;
  }
  print_update(ui, global, *conductor, *summary);
  return kExitSuccess;
}

using Runner = int (*)(const GlobalOptions&, const LifecycleFlags&);

CLI::App* add_command(CLI::App& app, CommandContext& context, const char* name, const char* summary, Runner runner,
                      std::shared_ptr<LifecycleFlags> flags, bool takes_id) {
  CLI::App* command = app.add_subcommand(name, summary);
  if (takes_id)
    command->add_option("id", flags->deployment_id, "Deployment id, as `hivemind list` shows it")->required();
  command->add_option("--target", flags->target, "auto (sandbox when up, else AWS), sandbox or aws")
      ->check(CLI::IsMember({"auto", "sandbox", "aws"}))
      ->capture_default_str();
  command->callback([&context, flags, runner] {
    context.action = [&context, flags, runner] { return runner(context.global, *flags); };
  });
  return command;
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, CommandContext& context) {
  add_command(app, context, "retry", "Resume a failed deployment at the stage that failed", run_retry,
              std::make_shared<LifecycleFlags>(), true);
  add_command(app, context, "rollback", "Delete everything a deployment's state records", run_rollback,
              std::make_shared<LifecycleFlags>(), true);

  auto destroy_flags = std::make_shared<LifecycleFlags>();
  CLI::App* destroy = add_command(app, context, "destroy", "Find every resource of a deployment by tag and delete it",
                                  run_destroy, destroy_flags, true);
  CLI::Option* snapshot =
      destroy->add_flag("--snapshot", destroy_flags->snapshot, "Take a final snapshot of the database first");
  CLI::Option* skip = destroy->add_flag("--skip-final-snapshot", destroy_flags->skip_final_snapshot,
                                        "Delete the database without a final snapshot");
  snapshot->excludes(skip);

  auto janitor_flags = std::make_shared<LifecycleFlags>();
  CLI::App* janitor = add_command(app, context, "janitor", "Find (and delete) resources left by failed deployments",
                                  run_janitor, janitor_flags, false);
  janitor->add_flag("--orphans", janitor_flags->orphans,
                    "List resources tagged hivemind:deployment whose deployment is unknown, failed, rolled back "
                    "or destroyed");
  janitor->add_flag("--clean", janitor_flags->clean, "Delete the orphans after confirmation")->needs("--orphans");

  auto update_flags = std::make_shared<LifecycleFlags>();
  CLI::App* update = add_command(
      app, context, "update",
      "Build and deploy a new version: on a new instance behind the load balancer (blue-green), or in place",
      run_update, update_flags, true);
  update->add_option("--version", update_flags->version,
                     "Branch, tag or commit of the deployment's source to deploy; default: the ref the deployment was "
                     "made from, as it is now");
  update->add_flag("--rolling", update_flags->rolling,
                   "Install the new version in place on the serving instance and restart the app, keeping the "
                   "previous release to switch back to when its health check fails");
}

}  // namespace hivemind::cli
