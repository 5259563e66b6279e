#pragma once

// Registration of each `hivemind` subcommand. Every command lives in its own
// command_<name>.cc file and registers its options and action here; the
// action runs after the whole command line has parsed.

#include <CLI/CLI.hpp>
#include <functional>

#include "cli/options.h"

namespace hivemind::cli {

// Runs the parsed command and returns its exit code.
using CommandAction = std::function<int()>;

struct CommandContext {
  GlobalOptions& global;
  CommandAction& action;  // set by the chosen subcommand's callback
};

// Adds `analyze`: prints a repository's analysis as text or JSON.
void add_analyze_command(CLI::App& app, CommandContext& context);

// Adds `doctor`: checks credentials, region, endpoints and IAM permissions.
void add_doctor_command(CLI::App& app, CommandContext& context);

// Adds `build`: builds a repository into a versioned artifact in the state folder.
void add_build_command(CLI::App& app, CommandContext& context);

// Adds `deploy`: runs a deployment through the Conductor, or prints its plan
// with --what-if.
void add_deploy_command(CLI::App& app, CommandContext& context);

// Adds `retry`, `rollback`, `destroy`, `janitor` and `update`.
void add_lifecycle_commands(CLI::App& app, CommandContext& context);

// Adds `status`, `list`, `logs` and `report`: views of the local state.
void add_status_commands(CLI::App& app, CommandContext& context);

// Adds `verify`: runs Overwatch's checks again on a running deployment.
void add_verify_command(CLI::App& app, CommandContext& context);

// Adds `sandbox up | down | status`: the local rehearsal of AWS (needs root).
void add_sandbox_command(CLI::App& app, CommandContext& context);

}  // namespace hivemind::cli
