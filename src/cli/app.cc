#include "cli/app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/ui.h"
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

// Returns the number of single-character insertions, deletions and
// substitutions that turn `from` into `to`.
size_t edit_distance(std::string_view from, std::string_view to) {
  std::vector<size_t> previous(to.size() + 1);
  std::vector<size_t> current(to.size() + 1);
  for (size_t j = 0; j <= to.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= from.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= to.size(); ++j) {
      size_t substitution = previous[j - 1] + (from[i - 1] == to[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[to.size()];
}

// Prints an error that names the mistyped command and the closest known one,
// where CLI11 alone would print only "A subcommand is required".
int report_unknown_command(CLI::App& app, const std::string& word, bool color) {
  constexpr size_t kMaxTypos = 2;
  std::string closest;
  size_t closest_distance = kMaxTypos + 1;
  for (const CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
    size_t distance = edit_distance(word, command->get_name());
    if (distance < closest_distance) {
      closest = command->get_name();
      closest_distance = distance;
    }
  }

  std::string hint = closest.empty() ? "" : fmt::format(" Did you mean `hivemind {}`?", closest);
  Ui(color, false)
      .error(fmt::format("Unknown command \"{}\".{} Run `hivemind --help` to list the commands.", word, hint));
  return kExitUsage;
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
  } catch (const CLI::RequiredError& error) {
    std::vector<std::string> words = app.remaining();
    if (app.get_subcommands().empty() && !words.empty() && words.front().rfind('-', 0) != 0)
      return report_unknown_command(app, words.front(), !global.no_color);
    app.exit(error);
    return kExitUsage;
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }

  if (!action) return kExitUsage;
  return action();
}

}  // namespace hivemind::cli
