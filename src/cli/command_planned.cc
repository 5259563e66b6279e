#include <iostream>
#include <memory>
#include <vector>
#include <string>

#include "cli/commands.h"

namespace hivemind::cli {
namespace {

struct PlannedCommand {
  const char* name;
  const char* summary;
  const char* missing;  // the capability this build lacks
};

constexpr PlannedCommand kPlannedCommands[] = {
    {"deploy", "Deploy a repository to AWS (or to the local sandbox)",
     "the deployment pipeline (provisioning, deployer and sandbox) is not built yet; nothing was deployed"},
    {"status", "Show one deployment, or a table of all of them", "deployment state is not built yet"},
    {"retry", "Resume a failed deployment at the stage that failed", "deployment state is not built yet"},
    {"rollback", "Delete everything a deployment created", "deployment state is not built yet"},
    {"update", "Deploy a new version with a blue-green switch", "deployment state is not built yet"},
    {"destroy", "Find every resource of a deployment by tag and delete it", "the janitor is not built yet"},
    {"report", "Write a deployment's report again", "deployment state is not built yet"},
    {"list", "List the deployments in the state folder", "deployment state is not built yet"},
    {"logs", "Print a deployment's own log", "deployment state is not built yet"},
};

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
