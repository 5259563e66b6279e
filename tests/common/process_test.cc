#include "common/process.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace hivemind {
namespace {

ProcessOptions basic_options() {
  ProcessOptions options;
  options.environment = {{"PATH", "/usr/bin:/bin"}};
  options.timeout = std::chrono::seconds(20);
  return options;
}

TEST(ProcessTest, CapturesOutputAndExitCode) {
  Result<ProcessResult> result = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, basic_options());

  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->timed_out);
  EXPECT_FALSE(result->succeeded());
  EXPECT_NE(result->output.find("out\n"), std::string::npos);
  EXPECT_NE(result->output.find("err\n"), std::string::npos);
}

TEST(ProcessTest, ArgumentsAreNotInterpretedByShell) {
  Result<ProcessResult> result = run_process({"echo", "$HOME; rm -rf /tmp/x"}, basic_options());

  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->output, "$HOME; rm -rf /tmp/x\n");
}

TEST(ProcessTest, EnvironmentIsReplacedNotInherited) {
  setenv("HIVEMIND_PROCESS_TEST_SECRET", "visible", 1);
  ProcessOptions options = basic_options();
  options.environment["ONLY_THIS"] = "1";

  Result<ProcessResult> result = run_process({"env"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->output.find("ONLY_THIS=1"), std::string::npos);
  EXPECT_EQ(result->output.find("HIVEMIND_PROCESS_TEST_SECRET"), std::string::npos);
  unsetenv("HIVEMIND_PROCESS_TEST_SECRET");
}

TEST(ProcessTest, RunsInWorkingFolder) {
  testing::TempDir folder;
  ProcessOptions options = basic_options();
  options.working_dir = folder.path();

  Result<ProcessResult> result = run_process({"pwd"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, folder.path().string() + "\n");
}

TEST(ProcessTest, TimeoutKillsProcessGroup) {
  ProcessOptions options = basic_options();
  options.timeout = std::chrono::milliseconds(300);

  Result<ProcessResult> result = run_process({"/bin/sh", "-c", "sleep 30 & sleep 30; echo never"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->succeeded());
  EXPECT_EQ(result->output.find("never"), std::string::npos);
}

TEST(ProcessTest, BackgroundChildDoesNotHoldTheCall) {
  ProcessOptions options = basic_options();
  options.timeout = std::chrono::seconds(20);

  Result<ProcessResult> result = run_process({"/bin/sh", "-c", "sleep 30 & echo started"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->exit_code, 0);
}

TEST(ProcessTest, MissingProgramIsAnError) {
  Result<ProcessResult> result = run_process({"hivemind-no-such-program"}, basic_options());

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "process.program_not_found");
  EXPECT_NE(result.error().message.find("hivemind-no-such-program"), std::string::npos);
  EXPECT_NE(result.error().message.find("/usr/bin:/bin"), std::string::npos);
}

TEST(ProcessTest, InputReachesStandardInput) {
  ProcessOptions options = basic_options();
  options.input = "hello\n";

  Result<ProcessResult> result = run_process({"cat"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, "hello\n");
}

TEST(ProcessTest, OutputIsAppendedToLogFile) {
  testing::TempDir folder;
  ProcessOptions options = basic_options();
  options.log_file = folder.path() / "build.log";
  std::ofstream(options.log_file) << "before\n";

  Result<ProcessResult> result = run_process({"echo", "logged"}, options);

  ASSERT_TRUE(result.ok());
  std::stringstream text;
  text << std::ifstream(options.log_file).rdbuf();
  EXPECT_EQ(text.str(), "before\nlogged\n");
}

TEST(ProcessTest, CapturedOutputKeepsTheTail) {
  ProcessOptions options = basic_options();
  options.max_captured_bytes = 10;

  Result<ProcessResult> result = run_process({"/bin/sh", "-c", "echo 0123456789; echo abcdefghi"}, options);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, "abcdefghi\n");
}

TEST(ProcessTest, LastLinesReturnsFinalLines) {
  EXPECT_EQ(last_lines("a\nb\nc\nd\n", 2), "c\nd");
  EXPECT_EQ(last_lines("a\nb", 5), "a\nb");
  EXPECT_EQ(last_lines("", 3), "");
}

TEST(ProcessTest, FindProgramSearchesPath) {
  EXPECT_EQ(find_program("sh", "/nonexistent:/bin"), std::filesystem::path("/bin/sh"));
  EXPECT_FALSE(find_program("sh", "/nonexistent").has_value());
  EXPECT_FALSE(find_program("", "/bin").has_value());
}

}  // namespace
}  // namespace hivemind
