// `hivemind verify <id>`: Overwatch's checks run again on a running
// deployment, to show whether the app still responds after a change by
// hand, an alarm or an outage.

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/conductor_setup.h"
#include "cli/deployment_view.h"
#include "cli/ui.h"
#include "conductor/verify_again.h"

namespace hivemind::cli {
namespace {

struct VerifyFlags {
  std::string deployment_id;
  std::string target = "auto";
};

void print_json(const conductor::VerifyOutcome& outcome) {
  nlohmann::json checks = nlohmann::json::array();
  for (const state::VerificationResult& row : outcome.results) {
    checks.push_back({{"check", row.check}, {"passed", row.passed}, {"detail", row.detail}});
  }
  nlohmann::json json{{"ok", outcome.passed()}, {"id", outcome.deployment.id}, {"checks", checks}};
  if (!outcome.passed()) json["error"] = outcome.failure.describe();
  std::cout << json.dump(2) << "\n";
}

void print_text(Ui& ui, const conductor::VerifyOutcome& outcome) {
  for (const state::VerificationResult& row : outcome.results) {
    if (row.passed) {
      ui.success(fmt::format("{}: {}", row.check, row.detail));
    } else {
      ui.error(fmt::format("{}: {}", row.check, row.detail));
    }
  }
  if (outcome.passed()) {
    ui.success(fmt::format("Every check of {} passed.", outcome.deployment.id));
  } else {
    ui.error(outcome.failure.describe());
  }
}

int run_verify(const GlobalOptions& global, const VerifyFlags& flags) {
  Ui ui(!global.no_color, global.json);
  configure_command_log(global, state::is_valid_deployment_id(flags.deployment_id) ? flags.deployment_id : "");
  TargetChoice choice = parse_target_choice(flags.target).value_or(TargetChoice::kAuto);
  Result<ResolvedTarget> target = resolve_target(global, choice, false);
  if (!target) {
    ui.error("hivemind verify: " + target.error().describe());
    return kExitFailure;
  }
  ui.info(fmt::format("Target: {}", target->description));

  conductor::ConductorSetup setup =
      make_conductor_setup(global, *target, progress_printer(ui, {}), "hivemind verify " + flags.deployment_id);
  Result<conductor::VerifyOutcome> outcome = conductor::verify_again(setup, flags.deployment_id);
  ui.stop_spinner();
  if (!outcome) {
    ui.error("hivemind verify: " + outcome.error().describe());
    if (global.json) std::cout << nlohmann::json{{"ok", false}, {"error", outcome.error().describe()}}.dump(2) << "\n";
    return kExitFailure;
  }
  if (global.json) {
    print_json(*outcome);
  } else {
    print_text(ui, *outcome);
  }
  return outcome->passed() ? kExitSuccess : kExitFailure;
}

}  // namespace

void add_verify_command(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* command =
      app.add_subcommand("verify",
                         "Run Overwatch's checks again on a deployment: the app, the load balancer, the "
                         "database login; exits 1 when one fails");
  command->add_option("id", flags->deployment_id, "Deployment id")->required();
  command->add_option("--target", flags->target, "auto (sandbox when up, else AWS), sandbox or aws")
      ->check(CLI::IsMember({"auto", "sandbox", "aws"}))
      ->capture_default_str();
  command->callback(
      [&context, flags] { context.action = [&context, flags] { return run_verify(context.global, *flags); }; });
}

}  // namespace hivemind::cli
