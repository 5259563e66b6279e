#include <array>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace hivemind::cli {
namespace {

struct PlannedCommand {
  const char* name;
  const char* summary;
  const char* missing;  // the capability this build lacks
};

// Every command of this build is implemented; a command that is registered
// before its implementation exists gets a line here.
constexpr std::array<PlannedCommand, 0> kPlannedCommands{};

}  // namespace

void add_planned_commands(CLI::App& app, CommandContext& context) {
  for (const PlannedCommand& planned : kPlannedCommands) {
    CLI::App* command = app.add_subcommand(planned.name, planned.summary);
    // Accepts any arguments so that the message below, not a parse error,
    // tells the user why the command cannot run.
    auto arguments = std::make_shared<std::vector<std::string>>();
    command->add_option("arguments", *arguments, "Arguments of the command");
    std::string name = planned.name;
    std::string missing = planned.missing;
    command->callback([&context, name, missing, arguments] {
      context.action = [name, missing] {
        std::cerr << "hivemind " << name << ": not available in this build: " << missing << ".\n";
        return kExitFailure;
      };
    });
  }
}

}  // namespace hivemind::cli
