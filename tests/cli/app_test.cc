// What `hivemind` prints when the command line names no known command.

#include "cli/app.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/options.h"

namespace hivemind::cli {
namespace {

// Runs the command line `words` (without the program name) and returns its
// exit status and what it printed to standard error.
std::pair<int, std::string> run_words(std::vector<std::string> words) {
  words.insert(words.begin(), "hivemind");
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  testing::internal::CaptureStderr();
  int status = run(static_cast<int>(words.size()), argv.data());
  return {status, testing::internal::GetCapturedStderr()};
}

TEST(CommandLine, MistypedCommandNamesClosest) {
  auto [status, error] = run_words({"--no-color", "deplyo", "./app"});
  EXPECT_EQ(status, kExitUsage);
  EXPECT_EQ(error,
            "✖ Unknown command \"deplyo\". Did you mean `hivemind deploy`? Run `hivemind --help` to list the "
            "commands.\n");
}

TEST(CommandLine, MistypedCommandAfterGlobalOption) {
  auto [status, error] = run_words({"--no-color", "--state-dir", "/nonexistent", "statsu"});
  EXPECT_EQ(status, kExitUsage);
  EXPECT_EQ(error,
            "✖ Unknown command \"statsu\". Did you mean `hivemind status`? Run `hivemind --help` to list the "
            "commands.\n");
}

TEST(CommandLine, UnknownCommandWithoutNeighbour) {
  auto [status, error] = run_words({"--no-color", "frobnicate"});
  EXPECT_EQ(status, kExitUsage);
  EXPECT_EQ(error, "✖ Unknown command \"frobnicate\". Run `hivemind --help` to list the commands.\n");
}

TEST(CommandLine, MissingCommandSaysOneIsRequired) {
  auto [status, error] = run_words({"--no-color"});
  EXPECT_EQ(status, kExitUsage);
  EXPECT_NE(error.find("A subcommand is required"), std::string::npos) << error;
}

}  // namespace
}  // namespace hivemind::cli
