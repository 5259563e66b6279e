// The All-Seeing Eye in the sandbox: the sample app's own log lines travel
// from its host through the daemon's CloudWatch agent stand-in into moto's
// CloudWatch Logs, and `hivemind status --show-logs` shows them, with an
// uncaught exception grouped as a stack trace.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "aws/logs.h"
#include "remote/scripts.h"
#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBoom = "boom from the eye test";

// Adds a route that throws. Express's default error handler returns 500 and
// writes the error's stack to standard error, which the app's log receives.
Status add_throwing_route(const std::filesystem::path& repository) {
  std::filesystem::path server = repository / "src" / "server.js";
  std::ifstream in(server);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string route = std::string("app.get(\"/boom\", () => {\n  throw new Error(\"") + kBoom + "\");\n});\n\n";
  size_t at = text.find("const port");
  if (at == std::string::npos) return fail(make_error("test.example_changed", "server.js has no `const port` line."));
  text.insert(at, route);
  std::ofstream(server, std::ios::trunc) << text;
  return commit_all(repository, "Add a route that throws");
}

bool has_stack_trace_of(const nlohmann::json& groups, const std::string& text) {
  for (const nlohmann::json& group : groups) {
    if (group.value("kind", "") == "stack trace" && group.value("sample", "").find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool has_line_containing(const nlohmann::json& lines, const std::string& text) {
  for (const nlohmann::json& line : lines) {
    if (line.value("message", "").find(text) != std::string::npos) return true;
  }
  return false;
}

class EyeTest : public SandboxTest {};

TEST_F(EyeTest, AppLogsAndErrorsReachStatus) {
  auto repository = copy_example("node-express-postgres", sandbox().work_dir());
  ASSERT_TRUE(repository) << repository.error().describe();
  ASSERT_TRUE(add_throwing_route(*repository));
  CliRun deployed = sandbox().deploy(*repository);
  ASSERT_EQ(deployed.exit_code, 0) << deployed.describe();
  std::string id = deployed.json().value("id", "");
  auto url = sandbox().local_url(deployed.json().value("url", ""));
  ASSERT_TRUE(url) << url.error().describe();

  HttpReply boom = http_get(*url + "/boom");
  EXPECT_EQ(boom.status, 500) << boom.error << boom.body;

  // The daemon ships on each pass (about every 0.7 s); allow 60 s on a loaded machine.
  nlohmann::json logs;
  CliRun status;
  for (auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;) {
    status = sandbox().hivemind({"--json", "status", id, "--show-logs", "--lines", "200"}, 60s);
    logs = status.json().value("logs", nlohmann::json::object());
    if (has_stack_trace_of(logs.value("error_groups", nlohmann::json::array()), kBoom)) break;
    std::this_thread::sleep_for(2s);
  }

  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_TRUE(has_line_containing(logs["lines"], "notes listening on")) << logs.dump(2);
  EXPECT_TRUE(has_stack_trace_of(logs["error_groups"], kBoom)) << logs.dump(2) << sandbox().diagnostics();

  auto client = sandbox().make_client();
  aws::logs::FilterRequest request;
  request.group_name = "/hivemind/" + id;
  auto events = aws::logs::filter_log_events(*client, request);
  ASSERT_TRUE(events.ok()) << events.error().to_error().describe();
  bool from_app_stream = false;
  for (const aws::logs::LogEvent& event : *events) {
    if (event.message.find("notes listening on") != std::string::npos) {
      from_app_stream = event.stream_name.ends_with("/app");
    }
  }
  EXPECT_TRUE(from_app_stream) << "the line should arrive in the stream <instance id>/app";

  CliRun check = sandbox().hivemind({"status", id, "--check"}, 60s);
  EXPECT_EQ(check.exit_code, 1) << "the thrown error is new to --check: " << check.describe();
  EXPECT_NE(check.out.find(kBoom), std::string::npos) << check.describe();
}

// One deployment for both checks, because a deploy takes most of the time.
TEST_F(EyeTest, StatusReportAndCheckOfDeployment) {
  auto repository = copy_example("node-express-postgres", sandbox().work_dir());
  ASSERT_TRUE(repository) << repository.error().describe();
  CliRun deployed = sandbox().deploy(*repository);
  ASSERT_EQ(deployed.exit_code, 0) << deployed.describe();
  std::string id = deployed.json().value("id", "");

  CliRun status = sandbox().hivemind({"--json", "status", id}, 60s);
  CliRun report = sandbox().hivemind({"report", id}, 60s);

  ASSERT_EQ(status.exit_code, 0) << status.describe();
  std::string endpoint = status.json().value("database_endpoint", "");
  EXPECT_TRUE(endpoint.starts_with("postgresql://")) << status.describe();
  EXPECT_EQ(endpoint.find(':', std::string("postgresql://").size()), endpoint.rfind(':'))
      << "only the port's colon, no password: " << endpoint;
  ASSERT_EQ(report.exit_code, 0) << report.describe();
  std::ifstream file(sandbox().state_dir() / id / "report" / "report.txt");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("  Database:   postgresql://"), std::string::npos) << text;
  EXPECT_NE(text.find("\nLogs (last hour"), std::string::npos) << text;
  EXPECT_NE(text.find("notes listening on"), std::string::npos) << "the app's log in the report: " << text;
  EXPECT_NE(text.find("\nMetrics (last hour)\n  CPU"), std::string::npos) << text;
  EXPECT_NE(text.find("(estimate, per month)"), std::string::npos) << text;

  CliRun healthy = sandbox().hivemind({"status", id, "--check"}, 60s);
  ASSERT_EQ(healthy.exit_code, 0) << healthy.describe();

  auto layout = remote::make_release_layout("node-express-postgres", "stopped");
  ASSERT_TRUE(layout) << layout.error().describe();
  CliRun stop = sandbox().ssh(id, "sh -s", remote::stop_script(*layout, remote::InitSystem::kFallback));
  ASSERT_EQ(stop.exit_code, 0) << stop.describe();

  // haproxy needs its unhealthy threshold of failed checks before it marks
  // the server DOWN; allow 60 s.
  CliRun check;
  for (auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;) {
    check = sandbox().hivemind({"status", id, "--check"}, 60s);
    if (check.exit_code != 0) break;
    std::this_thread::sleep_for(2s);
  }

  EXPECT_EQ(check.exit_code, 1) << check.describe();
  EXPECT_NE(check.out.find("in the sandbox proxy"), std::string::npos) << check.describe();
}

}  // namespace
}  // namespace hivemind::testing
