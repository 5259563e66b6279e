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

// Adds the subcommands that exist in this build but are not implemented yet:
// each prints which capability is missing and exits with kExitFailure.
void add_planned_commands(CLI::App& app, CommandContext& context);

}  // namespace hivemind::cli
