// Errors as the user sees them on the command line: a mistyped or missing
// command, and the command that a state folder error names.

#include "cli/app.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
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

TEST(CommandLine, ListErrorNamesListCommand) {
  std::string not_a_folder = ::testing::TempDir() + "hivemind-list-state-file";
  std::ofstream(not_a_folder) << "not a folder\n";

  auto [status, error] = run_words({"--no-color", "--state-dir", not_a_folder, "list"});

  std::remove(not_a_folder.c_str());
  EXPECT_EQ(status, kExitFailure);
  EXPECT_EQ(error.rfind("✖ hivemind list: ", 0), 0u) << error;
}

TEST(CommandLine, SandboxStatusWhenDownSaysHowToStart) {
  std::string state_dir = ::testing::TempDir() + "hivemind-sandbox-down-state";
  std::vector<std::string> words = {"hivemind", "--state-dir", state_dir, "sandbox", "status"};
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  ::testing::internal::CaptureStdout();
  int status = run(static_cast<int>(words.size()), argv.data());
  std::string output = ::testing::internal::GetCapturedStdout();

  EXPECT_EQ(status, kExitFailure);
  EXPECT_EQ(output,
            "moto_server  not running\n"
            "daemon       not running\n"
            "The sandbox of " +
                state_dir + " is not running. Start it with `hivemind --state-dir " + state_dir +
                " sandbox up` (as root).\n");
}

}  // namespace
}  // namespace hivemind::cli
