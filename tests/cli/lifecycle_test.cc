// The lifecycle commands end to end: the real hivemind binary with a
// temporary state folder, its AWS target pointed at the test's moto_server
// through AWS_ENDPOINT_URL and dummy credentials. No sandbox runs here, so
// the deploy stage cannot reach a host; the tests assert what the binary
// records either way.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process.h"
#include "infra/discovery.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::cli {
namespace {

using hivemind::testing::MotoTest;
using hivemind::testing::TempDir;

constexpr const char* kSshCidr = "203.0.113.7/32";

struct CommandRun {
  int exit_code = -1;
  std::string output;  // standard output only
  std::string errors;  // standard error only
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream input(file);
  return std::string(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
}

void write_text(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }

// A web app of two files in a fresh Git repository, so that the build needs
// no package from the network.
std::filesystem::path make_small_app(const std::filesystem::path& root) {
  std::filesystem::path app = root / "tiny-web";
  std::filesystem::create_directories(app);
  write_text(app / "package.json",
             R"({"name": "tiny-web", "version": "1.0.0", "private": true, "scripts": {"start": "node server.js"}})");
  write_text(app / "server.js",
             "const http = require('http');\n"
             "http.createServer((req, res) => res.end('ok')).listen(process.env.PORT || 3000);\n");
  std::string quoted = "'" + app.string() + "'";
  std::string script = "cd " + quoted +
                       " && git init -q . && git add . && "
                       "git -c user.email=test@example.com -c user.name=test commit -qm init";
  auto result = run_process({"/bin/sh", "-c", script}, {});
  EXPECT_TRUE(result && result->succeeded()) << (result ? result->output : result.error().describe());
  return app;
}

class LifecycleTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    state_dir_ = temp_.path() / "state";
    std::filesystem::create_directories(temp_.path() / "home");
  }

  // Runs the hivemind binary with the test's AWS environment and standard
  // input from a pipe, so that no prompt can be answered.
  CommandRun hivemind(std::vector<std::string> arguments) {
    std::filesystem::path errors = temp_.path() / "stderr.txt";
    std::vector<std::string> argv{"/bin/sh",
                                  "-c",
                                  "exec \"$@\" 2>\"$HIVEMIND_TEST_STDERR\"",
                                  "sh",
                                  HIVEMIND_BINARY_DIR "/hivemind",
                                  "--no-color",
                                  "--state-dir",
                                  state_dir_.string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());

    ProcessOptions options;
    options.timeout = std::chrono::minutes(3);
    std::string home = (temp_.path() / "home").string();
    options.environment = {{"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
                           {"HOME", home},
                           {"AWS_CONFIG_FILE", home + "/config"},
                           {"AWS_SHARED_CREDENTIALS_FILE", home + "/credentials"},
                           {"AWS_ENDPOINT_URL", moto().endpoint()},
                           {"AWS_ACCESS_KEY_ID", "testing"},
                           {"AWS_SECRET_ACCESS_KEY", "testing"},
                           {"AWS_REGION", "us-east-1"},
                           {"AWS_EC2_METADATA_DISABLED", "true"},
                           {"HIVEMIND_TEST_STDERR", errors.string()}};
    auto result = run_process(argv, options);
    EXPECT_TRUE(result.ok()) << result.error().describe();
    if (!result) return {};
    EXPECT_FALSE(result->timed_out) << "hivemind timed out";
    return {result->exit_code, result->output, read_text(errors)};
  }

  nlohmann::json hivemind_json(std::vector<std::string> arguments, int expected_exit) {
    arguments.insert(arguments.begin(), "--json");
    CommandRun run = hivemind(arguments);
    EXPECT_EQ(run.exit_code, expected_exit) << run.output << run.errors;
    nlohmann::json json = nlohmann::json::parse(run.output, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << "not JSON: " << run.output << run.errors;
    return json;
  }

  std::vector<infra::DiscoveredResource> tagged(const std::string& deployment_id) {
    auto found = infra::discover(client(), deployment_id);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().to_error().describe());
    return found.ok() ? *found : std::vector<infra::DiscoveredResource>{};
  }

  TempDir temp_;
  std::filesystem::path state_dir_;
};

std::map<std::string, int> count_by_kind(const std::vector<infra::DiscoveredResource>& resources) {
  std::map<std::string, int> counts;
  for (const infra::DiscoveredResource& resource : resources) counts[resource.kind] += 1;
  return counts;
}

TEST_F(LifecycleTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(hivemind({"deploy"}).exit_code, 2);
  EXPECT_EQ(hivemind({"deploy", ".", "--target", "mars"}).exit_code, 2);
  EXPECT_EQ(hivemind({"deploy", ".", "--db", "--no-db"}).exit_code, 2);
  EXPECT_EQ(hivemind({"deploy", ".", "--tag", "novalue"}).exit_code, 2);
  EXPECT_EQ(hivemind({"rollback"}).exit_code, 2);
  EXPECT_EQ(hivemind({"status", "--no-such-flag"}).exit_code, 2);
}

TEST_F(LifecycleTest, DeployHelpDocumentsTheTarget) {
  CommandRun run = hivemind({"deploy", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.output.find("--target"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sandbox"), std::string::npos) << run.output;
}

TEST_F(LifecycleTest, WhatIfPrintsPlanAndCreatesNothing) {
  std::string app = HIVEMIND_SOURCE_DIR "/examples/node-express-postgres";
  nlohmann::json plan = hivemind_json({"deploy", app, "--what-if", "--target", "aws", "--ssh-cidr", kSshCidr}, 0);
  ASSERT_TRUE(plan.contains("resources")) << plan.dump();
  EXPECT_GT(plan["resources"].size(), 5u);
  EXPECT_GT(plan["monthly_cost_usd"].get<double>(), 0.0);
  bool has_database = false;
  for (const auto& resource : plan["resources"]) has_database |= resource["kind"] == "rds:db-instance";
  EXPECT_TRUE(has_database) << plan.dump(2);

  CommandRun text = hivemind({"deploy", app, "--what-if", "--target", "aws", "--ssh-cidr", kSshCidr});
  EXPECT_EQ(text.exit_code, 0) << text.errors;
  EXPECT_NE(text.output.find("Target: AWS account"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Total: about $"), std::string::npos) << text.output;

  EXPECT_TRUE(tagged("").empty());
}

TEST_F(LifecycleTest, FailedDeployCleansUpAfterItself) {
  std::filesystem::path app = make_small_app(temp_.path());
  CommandRun run = hivemind({"--json", "deploy", app.string(), "--target", "aws", "--ssh-cidr", kSshCidr});
  nlohmann::json outcome = nlohmann::json::parse(run.output, nullptr, false);
  ASSERT_FALSE(outcome.is_discarded()) << run.output << run.errors;
  std::string id = outcome["id"];

  if (outcome["status"] == "deployed") {
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_FALSE(tagged(id).empty());
    return;
  }
  // Provisioning succeeded. The deploy stage fails because moto outside the
  // sandbox invents the instance's address, which HiveMind never connects to.
  EXPECT_EQ(run.exit_code, 1) << run.errors;
  EXPECT_EQ(outcome["status"], "rolled_back") << outcome.dump(2);
  EXPECT_EQ(outcome["failed_stage"], "deploy") << outcome.dump(2);
  EXPECT_NE(outcome["failure"]["message"].get<std::string>().find("invented"), std::string::npos);
  EXPECT_TRUE(tagged(id).empty());

  nlohmann::json status = hivemind_json({"status", id}, 0);
  EXPECT_EQ(status["status"], "rolled_back");
  EXPECT_FALSE(hivemind({"logs", id}).output.empty());

  nlohmann::json report = hivemind_json({"report", id}, 0);
  std::filesystem::path report_path = report["report_path"].get<std::string>();
  EXPECT_NE(read_text(report_path).find(id), std::string::npos);
}

TEST_F(LifecycleTest, KeptDeploymentRetriesAndDestroysByTag) {
  std::filesystem::path app = make_small_app(temp_.path());
  CommandRun run =
      hivemind({"--json", "deploy", app.string(), "--target", "aws", "--ssh-cidr", kSshCidr, "--no-auto-cleanup"});
  nlohmann::json outcome = nlohmann::json::parse(run.output, nullptr, false);
  ASSERT_FALSE(outcome.is_discarded()) << run.output << run.errors;
  std::string id = outcome["id"];
  std::vector<infra::DiscoveredResource> created = tagged(id);
  EXPECT_FALSE(created.empty());

  if (outcome["status"] == "failed") {
    EXPECT_EQ(run.exit_code, 1);
    std::string failed_stage = outcome["failed_stage"];

    CommandRun text_status = hivemind({"status"});
    EXPECT_NE(text_status.output.find(id), std::string::npos) << text_status.output;
    EXPECT_NE(text_status.output.find("failed"), std::string::npos) << text_status.output;
    EXPECT_NE(hivemind({"list"}).output.find(id), std::string::npos);

    nlohmann::json retried = hivemind_json({"retry", id, "--target", "aws"}, 1);
    EXPECT_EQ(retried["failed_stage"], failed_stage) << retried.dump(2);
    EXPECT_EQ(retried["retry_count"], 1);
    EXPECT_EQ(count_by_kind(tagged(id)), count_by_kind(created));
  }

  CommandRun refused = hivemind({"rollback", id, "--target", "aws"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.errors.find("--yes"), std::string::npos) << refused.errors;
  EXPECT_NE(refused.errors.find("Nothing was deleted"), std::string::npos) << refused.errors;
  EXPECT_EQ(count_by_kind(tagged(id)), count_by_kind(created));

  std::filesystem::remove_all(state_dir_);
  CommandRun destroyed = hivemind({"--yes", "destroy", id, "--target", "aws", "--skip-final-snapshot"});
  EXPECT_EQ(destroyed.exit_code, 0) << destroyed.output << destroyed.errors;
  EXPECT_NE(destroyed.output.find("found by tag"), std::string::npos) << destroyed.output;
  EXPECT_TRUE(tagged(id).empty());
}

TEST_F(LifecycleTest, StatusOfEmptyStateSaysHowToStart) {
  CommandRun run = hivemind({"status"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.output.find("hivemind deploy"), std::string::npos) << run.output;
  EXPECT_EQ(hivemind({"status", "hm-nothing-aaaaaa"}).exit_code, 1);
  EXPECT_EQ(hivemind({"logs", "hm-nothing-aaaaaa"}).exit_code, 1);
}

TEST_F(LifecycleTest, UpdateOfUnknownDeploymentFailsWithoutAsking) {
  CommandRun update = hivemind({"update", "hm-nothing-aaaaaa"});
  EXPECT_EQ(update.exit_code, 1);
  EXPECT_NE(update.errors.find("hm-nothing-aaaaaa"), std::string::npos) << update.errors;
  EXPECT_EQ(update.errors.find("Update hm-nothing-aaaaaa?"), std::string::npos) << update.errors;
  EXPECT_EQ(hivemind({"update"}).exit_code, 2);
}

TEST_F(LifecycleTest, ReportOfUnknownDeploymentFails) {
  CommandRun report = hivemind({"report", "hm-nothing-aaaaaa"});
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_NE(report.errors.find("hm-nothing-aaaaaa"), std::string::npos) << report.errors;
}

}  // namespace
}  // namespace hivemind::cli
