#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "remote/remote_fixture.h"

namespace hivemind::remote {
namespace {

using ExecTest = RemoteTest;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST_F(ExecTest, ReturnsExitStatusAndBothStreams) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto result = session->exec("echo out; echo err >&2; exit 3");
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->exit_status, 3);
  EXPECT_EQ(result->stdout_text, "out\n");
  EXPECT_EQ(result->stderr_text, "err\n");
  EXPECT_FALSE(result->output_truncated);
}

TEST_F(ExecTest, RunsSeveralCommandsOnOneSession) {
  auto session = connect();
  ASSERT_TRUE(session);

  for (int i = 0; i < 3; ++i) {
    auto result = session->exec("echo " + std::to_string(i));
    ASSERT_TRUE(result.ok()) << result.error().describe();
    EXPECT_EQ(result->stdout_text, std::to_string(i) + "\n");
  }
}

TEST_F(ExecTest, PassesStandardInput) {
  auto session = connect();
  ASSERT_TRUE(session);
  ExecOptions options;
  options.stdin_data = "line one\nline two\n";

  auto result = session->exec("wc -l", options);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->stdout_text, "2\n");
}

TEST_F(ExecTest, TimeoutStopsRemoteCommand) {
  auto session = connect();
  ASSERT_TRUE(session);
  ExecOptions options;
  options.timeout = std::chrono::milliseconds(500);

  auto result = session->exec("sleep 37", options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "remote.exec_timeout");
  EXPECT_NE(result.error().message.find("sleep 37"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("500 ms"), std::string::npos) << result.error().message;

  // The session stays usable, and the remote sleep has been stopped.
  auto check = session->exec("sleep 0.5; pgrep -x -f 'sleep 37'");
  ASSERT_TRUE(check.ok()) << check.error().describe();
  EXPECT_EQ(check->exit_status, 1) << "still running: " << check->stdout_text;
}

TEST_F(ExecTest, TimeoutStopsWholeProcessGroup) {
  auto session = connect();
  ASSERT_TRUE(session);
  ExecOptions options;
  options.timeout = std::chrono::milliseconds(500);

  auto result = session->exec("sleep 38 & sleep 39; echo never", options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "remote.exec_timeout");

  auto check = session->exec("sleep 0.5; pgrep -f 'sleep 3[89]'");
  ASSERT_TRUE(check.ok()) << check.error().describe();
  EXPECT_EQ(check->exit_status, 1) << "still running: " << check->stdout_text;
}

TEST_F(ExecTest, KeepsStderrWithoutFinalNewline) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto result = session->exec("printf 'no newline' >&2");
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->stderr_text, "no newline");
}

TEST_F(ExecTest, OutputKeepsLastBytesWhenCapped) {
  auto session = connect();
  ASSERT_TRUE(session);
  ExecOptions options;
  options.max_output_bytes = 1000;

  auto result = session->exec("seq 1 100000", options);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->exit_status, 0);
  EXPECT_TRUE(result->output_truncated);
  EXPECT_EQ(result->stdout_text.size(), 1000u);
  EXPECT_TRUE(result->stdout_text.ends_with("99999\n100000\n"));
}

TEST_F(ExecTest, RunFailureShowsStatusAndStderrTail) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto result = session->run("for i in $(seq 1 30); do echo problem-$i >&2; done; exit 7");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "remote.command_failed");
  EXPECT_NE(result.error().message.find("exit status 7"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("problem-30"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("problem-11"), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find("problem-10\n"), std::string::npos) << result.error().message;
}

TEST_F(ExecTest, RunSucceedsOnExitStatusZero) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto result = session->run("true");
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->exit_status, 0);
}

TEST_F(ExecTest, LogRecordsCommandStatusAndDuration) {
  std::filesystem::path log_file = keys_.path() / "hivemind.log";
  log::configure(log_file, spdlog::level::debug, false);
  auto session = connect();
  ASSERT_TRUE(session);

  ExecOptions options;
  options.stdin_data = "stdin-must-not-be-logged";
  auto result = session->exec("cat >/dev/null; exit 4", options);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  log::get("deployer")->flush();
  std::string text = read_file(log_file);
  log::configure_stderr(spdlog::level::off);

  EXPECT_NE(text.find("[deployer] exec on root@127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("exit status 4 on root@127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find(" ms: cat >/dev/null; exit 4"), std::string::npos) << text;
  EXPECT_EQ(text.find("stdin-must-not-be-logged"), std::string::npos) << text;
}

}  // namespace
}  // namespace hivemind::remote
