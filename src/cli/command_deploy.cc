// `hivemind deploy <repo> [description]`: runs a whole deployment through the
// Conductor with live progress, or, with --what-if, prints the plan and its
// costs without any mutating AWS call.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/conductor_setup.h"
#include "cli/deployed_summary.h"
#include "cli/deployment_view.h"
#include "cli/ui.h"
#include "common/log.h"

namespace hivemind::cli {
namespace {

struct DeployFlags {
  std::string source;
  std::string description;
  std::string target = "auto";
  bool what_if = false;
  std::string ref;
  std::string app_dir;
  std::string instance_type = "t3.micro";
  bool database = false;
  bool no_database = false;
  std::string certificate_arn;
  std::string ssh_cidr;
  std::string ami;
  std::vector<std::string> tags;
  bool no_auto_cleanup = false;
  int max_retries = 3;
};

constexpr const char* kTargetHelp =
    "Where to deploy: auto (the default) uses the sandbox of --state-dir when it is up (its address map exists and "
    "its moto runs), otherwise AWS with the credentials, region and endpoints of the AWS CLI's settings; sandbox "
    "or aws force one";

Result<conductor::DeployOptions> deploy_options(const DeployFlags& flags) {
  conductor::DeployOptions options;
  options.source = std::filesystem::absolute(flags.source).string();
  if (flags.source.find("://") != std::string::npos || flags.source.rfind("git@", 0) == 0)
    options.source = flags.source;
  options.description = flags.description;
  options.ref = flags.ref;
  options.app_dir = flags.app_dir;
  options.instance_type = flags.instance_type;
  if (flags.database) options.database = true;
  if (flags.no_database) options.database = false;
  options.certificate_arn = flags.certificate_arn;
  options.ssh_cidr = flags.ssh_cidr;
  options.ami = flags.ami;
  options.auto_cleanup = !flags.no_auto_cleanup;
  options.max_retries = flags.max_retries;
  for (const std::string& tag : flags.tags) {
    size_t equals = tag.find('=');
    if (equals == std::string::npos || equals == 0) {
      return fail(make_error("cli.invalid_tag", fmt::format("Invalid --tag \"{}\": expected key=value.", tag),
                             "Pass each tag as --tag key=value, e.g. --tag team=web."));
    }
    options.tags[tag.substr(0, equals)] = tag.substr(equals + 1);
  }
  return options;
}

int print_plan(const infra::Plan& plan, const GlobalOptions& global, Ui& ui) {
  if (global.json) {
    nlohmann::json resources = nlohmann::json::array();
    for (const infra::ResourceSpec& resource : plan.resources) {
      resources.push_back({{"name", resource.name},
                           {"kind", infra::kind_name(resource.kind)},
                           {"estimated_monthly_cost_usd", resource.cost.usd},
                           {"cost_basis", resource.cost.basis}});
    }
    std::cout
        << nlohmann::json{{"what_if", true}, {"resources", resources}, {"monthly_cost_usd", plan.monthly_usd()}}.dump(2)
        << "\n";
    return kExitSuccess;
  }

  ui.info(fmt::format("Plan: {} resources (nothing was created)", plan.resources.size()));
  for (const infra::ResourceSpec& resource : plan.resources) {
    ui.info(fmt::format("  {:<28} {:<34} {:>9}  {}", resource.name, infra::kind_name(resource.kind),
                        fmt::format("${:.2f}", resource.cost.usd), ui.paint(resource.cost.basis, Color::kGray)));
  }
  ui.info(fmt::format("Total: about ${:.2f} a month (estimate, on-demand prices)", plan.monthly_usd()));
  return kExitSuccess;
}

int run_deploy(const GlobalOptions& global, const DeployFlags& flags) {
  Ui ui(!global.no_color, global.json);
  configure_command_log(global, "");

  Result<conductor::DeployOptions> options = deploy_options(flags);
  if (!options) {
    ui.error(options.error().describe());
    return kExitUsage;
  }
  TargetChoice choice = parse_target_choice(flags.target).value_or(TargetChoice::kAuto);
  Result<ResolvedTarget> target = resolve_target(global, choice, true);
  if (!target) {
    ui.error("hivemind deploy: " + target.error().describe());
    return kExitFailure;
  }
  ui.info(fmt::format("Target: {}", target->description));

  auto on_created = [&global](const std::string& id) { configure_command_log(global, id); };
  conductor::ConductorSetup setup =
      make_conductor_setup(global, *target, progress_printer(ui, on_created), "hivemind deploy " + flags.source);
  auto conductor = conductor::Conductor::open(std::move(setup));
  if (!conductor) {
    ui.error("hivemind deploy: " + conductor.error().describe());
    return kExitFailure;
  }

  if (flags.what_if) {
    Result<infra::Plan> plan = (*conductor)->what_if(*options);
    ui.stop_spinner();
    if (!plan) {
      ui.error("hivemind deploy --what-if: " + plan.error().describe());
      return kExitFailure;
    }
    return print_plan(*plan, global, ui);
  }

  Result<state::Deployment> deployment = (*conductor)->deploy(*options);
  ui.stop_spinner();
  if (!deployment) {
    ui.error("hivemind deploy: " + deployment.error().describe());
    if (global.json)
      std::cout << nlohmann::json{{"ok", false}, {"error", deployment.error().describe()}}.dump(2) << "\n";
    return kExitFailure;
  }

  bool deployed = deployment->status == state::DeploymentStatus::deployed;
  if (global.json) {
    nlohmann::json json = deployment_json((*conductor)->store(), *deployment);
    json["ok"] = deployed;
    add_sandbox_url(json, global.state_dir);
    std::cout << json.dump(2) << "\n";
  } else if (deployed) {
    ui.success(fmt::format("Deployment {} is deployed.", deployment->id));
    print_deployed(ui, deployment_json((*conductor)->store(), *deployment), global.state_dir);
  } else {
    print_failure(ui, *deployment);
  }
  return deployed ? kExitSuccess : kExitFailure;
}

}  // namespace

void add_deploy_command(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* command = app.add_subcommand("deploy", "Deploy a repository to AWS (or to the local sandbox)");
  command->add_option("repo", flags->source, "Path or URL of the application's Git repository")->required();
  command->add_option("description", flags->description, "What this deployment is for, shown by status and list");
  command->add_option("--target", flags->target, kTargetHelp)
      ->check(CLI::IsMember({"auto", "sandbox", "aws"}))
      ->capture_default_str();
  command->add_flag("--what-if", flags->what_if, "Print the resources and their monthly costs; create nothing");
  command->add_option("--ref", flags->ref, "Branch, tag or commit to deploy (default: the checked-out one)");
  command->add_option("--app-dir", flags->app_dir, "Folder of the app inside the repository (default: its root)");
  command->add_option("--instance-type", flags->instance_type, "EC2 instance type")->capture_default_str();
  CLI::Option* with_db = command->add_flag("--db", flags->database, "Create a database even if none is detected");
  CLI::Option* without_db = command->add_flag("--no-db", flags->no_database, "Create no database");
  with_db->excludes(without_db);
  command->add_option("--certificate-arn", flags->certificate_arn, "ACM certificate ARN for an HTTPS listener");
  command->add_option("--ssh-cidr", flags->ssh_cidr,
                      "CIDR allowed to reach SSH, e.g. 203.0.113.7/32 (required on AWS; the sandbox has its own)");
  command->add_option("--ami", flags->ami, "AMI id (default: the latest Amazon Linux 2023)");
  command->add_option("--tag", flags->tags, "Extra tag on every resource, as key=value (repeatable)");
  command->add_flag("--no-auto-cleanup", flags->no_auto_cleanup,
                    "Keep the resources after a failure so that `hivemind retry <id>` can resume");
  command->add_option("--max-retries", flags->max_retries, "How many times `hivemind retry` may resume it")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  command->callback(
      [&context, flags] { context.action = [&context, flags] { return run_deploy(context.global, *flags); }; });
}

}  // namespace hivemind::cli
