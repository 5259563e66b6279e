// The bundled sample app deployed into the sandbox by the real binary.
// Overwatch's checks pass through the load balancer and the database login.
// After the app is stopped on its host, `hivemind verify` reports each
// failure with its diagnosis and the app's log tail.

#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "remote/scripts.h"
#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

constexpr const char* kApp = "node-express-postgres";

// The latest result of each check in a `status --json` or `verify --json`
// document, by check name.
std::map<std::string, nlohmann::json> checks_by_name(const nlohmann::json& list) {
  std::map<std::string, nlohmann::json> checks;
  if (!list.is_array()) return checks;
  for (const nlohmann::json& check : list) checks[check.value("check", "")] = check;
  return checks;
}

class DeployTest : public SandboxTest {};

TEST_F(DeployTest, SampleAppPassesThenStoppedAppFailsVerify) {
  auto repository = copy_example(kApp, sandbox().work_dir());
  ASSERT_TRUE(repository) << repository.error().describe();

  CliRun deploy = sandbox().deploy(*repository);

  ASSERT_EQ(deploy.exit_code, 0) << deploy.describe();
  std::string id = deploy.json().value("id", "");
  ASSERT_FALSE(id.empty()) << deploy.describe();
  std::cerr << "deploy of " << kApp << " took " << deploy.duration.count() << " ms\n";

  // Overwatch's results of the deploy, as `status --json` shows them.
  CliRun status = sandbox().hivemind({"status", id, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  auto checks = checks_by_name(status.json()["verifications"]);
  for (const char* name : {"http_instance", "http_load_balancer", "database_login"}) {
    ASSERT_TRUE(checks.count(name)) << name << " missing: " << status.out;
    EXPECT_TRUE(checks[name].value("passed", false)) << checks[name].dump();
  }

  // The same app from outside, through the sandbox load balancer; /notes
  // reads the database.
  auto url = sandbox().local_url(status.json().value("url", ""));
  ASSERT_TRUE(url) << url.error().describe();
  HttpReply health = http_get(*url + "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "{\"status\":\"ok\"}");
  HttpReply notes = http_get(*url + "/notes");
  EXPECT_EQ(notes.status, 200) << notes.error << notes.body;

  // Stop the app the way its supervisor is stopped, over SSH with the
  // deployment's key.
  auto layout = remote::make_release_layout(kApp, "stopped");
  ASSERT_TRUE(layout) << layout.error().describe();
  CliRun stop = sandbox().ssh(id, "sh -s", remote::stop_script(*layout, remote::InitSystem::kFallback));
  ASSERT_EQ(stop.exit_code, 0) << stop.describe();

  CliRun verify = sandbox().hivemind({"verify", id, "--json"}, std::chrono::minutes(2));

  EXPECT_EQ(verify.exit_code, 1) << verify.describe();
  nlohmann::json outcome = verify.json();
  ASSERT_TRUE(outcome.is_object()) << verify.describe();
  EXPECT_EQ(outcome["ok"], false);
  std::string error = outcome.value("error", "");
  EXPECT_NE(error.find("http_instance (refused)"), std::string::npos) << error;
  EXPECT_NE(error.find("http_load_balancer (wrong_status)"), std::string::npos) << error;
  auto rechecked = checks_by_name(outcome["checks"]);
  ASSERT_TRUE(rechecked.count("http_instance")) << verify.out;
  std::string instance_detail = rechecked["http_instance"].value("detail", "");
  EXPECT_NE(instance_detail.find("Last lines of the app log:"), std::string::npos) << instance_detail;
  EXPECT_NE(instance_detail.find("notes listening on 3000"), std::string::npos) << instance_detail;
  ASSERT_TRUE(rechecked.count("http_load_balancer")) << verify.out;
  EXPECT_NE(rechecked["http_load_balancer"].value("detail", "").find("HTTP 503"), std::string::npos)
      << rechecked["http_load_balancer"].dump();
  ASSERT_TRUE(rechecked.count("database_login")) << verify.out;
  EXPECT_TRUE(rechecked["database_login"].value("passed", false)) << rechecked["database_login"].dump();

  // status shows the new results in place of the deploy's.
  CliRun after = sandbox().hivemind({"status", id, "--json"});
  auto latest = checks_by_name(after.json()["verifications"]);
  EXPECT_FALSE(latest["http_instance"].value("passed", true)) << after.out;
  EXPECT_EQ(after.json().value("status", ""), "deployed");
  CliRun text = sandbox().hivemind({"status", id});
  // Rows are "<label> <padding> <check name> ...".
  EXPECT_TRUE(std::regex_search(text.out, std::regex("FAIL +http_instance "))) << text.describe();
  EXPECT_FALSE(std::regex_search(text.out, std::regex("pass +http_instance "))) << text.out;
}

}  // namespace
}  // namespace hivemind::testing
