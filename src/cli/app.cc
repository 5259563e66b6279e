#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/version.h"

namespace hivemind::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& global) {
  app.add_option("--state-dir", global.state_dir, "Folder that holds the deployments' state, logs and reports")
      ->capture_default_str();
  app.add_option("--region", global.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile)");
  app.add_option("--profile", global.profile, "Named profile from ~/.aws/config (default: AWS_PROFILE, then default)");
  app.add_flag("-y,--yes", global.yes, "Answer yes to every confirmation prompt");
  app.add_flag("--json", global.json, "Print machine-readable JSON instead of text");
  app.add_flag("-v,--verbose", global.verbose, "Print debug details, including every AWS call");
  app.add_flag("--no-color", global.no_color, "Print without colors (also set by the NO_COLOR variable)");
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"HiveMind deploys a web application's Git repository to AWS and runs its whole life.", "hivemind"};
  app.set_version_flag("--version", std::string("hivemind ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  if (std::getenv("NO_COLOR") != nullptr) global.no_color = true;
  add_global_options(app, global);

  CommandAction action;
  CommandContext context{global, action};
  add_sandbox_command(app, context);
  add_doctor_command(app, context);
  add_analyze_command(app, context);
  add_build_command(app, context);
  add_deploy_command(app, context);
  add_lifecycle_commands(app, context);
  add_status_commands(app, context);
  add_verify_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }

  if (!action) return kExitUsage;
  return action();
}

}  // namespace hivemind::cli
