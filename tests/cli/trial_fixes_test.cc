// Problems a new user hit, each checked with the real hivemind binary against
// the test's moto_server and a temporary state folder.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/process.h"
#include "state/lock.h"
#include "state/store.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::cli {
namespace {

using hivemind::testing::MotoTest;
using hivemind::testing::TempDir;

constexpr const char* kUnknownId = "hm-nothing-aaaaaa";

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class TrialFixesTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    state_dir_ = temp_.path() / "state";
    std::filesystem::create_directories(temp_.path() / "home");
  }

  // The binary with standard input closed to prompts and standard error
  // kept apart in a file.
  Outcome run(std::vector<std::string> arguments) {
    std::filesystem::path err_file = temp_.path() / "err.txt";
    std::vector<std::string> argv{
        "/bin/sh",    "-c",          "exec \"$@\" 2>\"$HM_ERR\"", "sh", HIVEMIND_BINARY_DIR "/hivemind",
        "--no-color", "--state-dir", state_dir_.string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    ProcessOptions options;
    options.timeout = std::chrono::minutes(2);
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
                           {"HM_ERR", err_file.string()}};
    auto result = run_process(argv, options);
    EXPECT_TRUE(result.ok()) << result.error().describe();
    if (!result) return {};
    EXPECT_FALSE(result->timed_out);
    std::ifstream input(err_file);
    std::stringstream err;
    err << input.rdbuf();
    return {result->exit_code, result->output, err.str()};
  }

  // A deployment written straight into the state, as a deploy would leave it.
  void seed(state::DeploymentStatus status, const std::function<void(state::Store&)>& more = {}) {
    state::StoreOptions options;
    options.state_dir = state_dir_;
    auto store = state::Store::open(options);
    ASSERT_TRUE(store.ok()) << store.error().describe();
    state::Deployment deployment;
    deployment.id = kSeededId;
    deployment.app_name = "shop";
    deployment.source = "/src/shop";
    deployment.region = "us-east-1";
    deployment.status = status;
    deployment.created_at = std::chrono::system_clock::now();
    ASSERT_TRUE((*store)->create_deployment(deployment).ok());
    if (more) more(**store);
  }

  static constexpr const char* kSeededId = "hm-shop-abc234";
  TempDir temp_;
  std::filesystem::path state_dir_;
};

// destroy is left out: it finds resources by tag, so an id missing from the
// state is valid there and succeeds when nothing carries its tag.
TEST_F(TrialFixesTest, UnknownIdFailsAsJson) {
  for (const char* command : {"status", "logs", "report", "retry", "rollback"}) {
    Outcome outcome = run({"--json", "--yes", command, kUnknownId});
    EXPECT_EQ(outcome.exit_code, 1) << command << ": " << outcome.out << outcome.err;
    nlohmann::json json = nlohmann::json::parse(outcome.out, nullptr, false);
    ASSERT_TRUE(json.is_object()) << command << " printed: " << outcome.out << outcome.err;
    EXPECT_EQ(json.value("ok", true), false) << command;
    EXPECT_FALSE(json.value("code", "").empty()) << command << ": " << json.dump();
    EXPECT_FALSE(json.value("error", "").empty()) << command << ": " << json.dump();
  }
}

TEST_F(TrialFixesTest, CheckNotRunShowsNotChecked) {
  seed(state::DeploymentStatus::deployed, [](state::Store& store) {
    state::VerificationResult skipped;
    skipped.deployment_id = kSeededId;
    skipped.check = "security:ssh_password_login_disabled";
    skipped.passed = true;
    skipped.detail = "not_checked: SSH password logins off on the host\nThe host's sshd configuration was not read.";
    skipped.checked_at = std::chrono::system_clock::now();
    ASSERT_TRUE(store.add_verification(skipped).ok());
  });
  Outcome text = run({"status", kSeededId});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("  not checked security:ssh_password_login_disabled"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("pass "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n      The host's sshd configuration was not read."), std::string::npos) << text.out;

  nlohmann::json json = nlohmann::json::parse(run({"--json", "status", kSeededId}).out, nullptr, false);
  ASSERT_TRUE(json.contains("verifications")) << json.dump();
  EXPECT_EQ(json["verifications"][0]["checked"], false);
  EXPECT_EQ(json["verifications"][0]["label"], "not checked");
}

TEST_F(TrialFixesTest, KilledDeployShowsInterruptedAndRetry) {
  seed(state::DeploymentStatus::deploying, [](state::Store& store) {
    ASSERT_TRUE(store.start_stage(kSeededId, state::StageName::provision, 1, std::chrono::system_clock::now()).ok());
  });
  Outcome text = run({"status", kSeededId});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("interrupted"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("`hivemind retry hm-shop-abc234`"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("running"), std::string::npos) << text.out;

  nlohmann::json json = nlohmann::json::parse(run({"--json", "status", kSeededId}).out, nullptr, false);
  EXPECT_EQ(json.value("interrupted", false), true) << json.dump();
  EXPECT_EQ(json.value("next_command", ""), "hivemind retry hm-shop-abc234") << json.dump();
}

TEST_F(TrialFixesTest, DeployWhoseLockIsHeldIsNotInterrupted) {
  seed(state::DeploymentStatus::destroying);
  // This test process takes the place of a live hivemind destroy.
  auto lock = state::DeploymentLock::acquire(state_dir_, kSeededId, {"hivemind destroy hm-shop-abc234"});
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  Outcome text = run({"status", kSeededId});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find("interrupted"), std::string::npos) << text.out;
  lock->release();
  EXPECT_NE(run({"status", kSeededId}).out.find("`hivemind destroy hm-shop-abc234`"), std::string::npos);
}

TEST_F(TrialFixesTest, DestroyOfVanishedResourceSavesNothing) {
  seed(state::DeploymentStatus::deployed, [](state::Store& store) {
    state::ResourceIntent intent;
    intent.deployment_id = kSeededId;
    intent.logical_name = "vpc";
    intent.kind = "ec2:vpc";
    intent.estimated_monthly_cost_usd = 41.98;
    ASSERT_TRUE(store.record_intent(intent).ok());
    // moto never created it: AWS returns InvalidVpcID.NotFound on delete.
    ASSERT_TRUE(store.record_created(kSeededId, "vpc", "vpc-0badc0ffee0000000", "", "{}").ok());
  });
  Outcome outcome = run({"--json", "--yes", "destroy", kSeededId});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  nlohmann::json json = nlohmann::json::parse(outcome.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << outcome.out << outcome.err;
  EXPECT_EQ(json["already_gone"], nlohmann::json::array({"vpc-0badc0ffee0000000"})) << json.dump();
  EXPECT_TRUE(json["deleted"].empty()) << json.dump();
  EXPECT_EQ(json["monthly_savings_usd"], 0.0) << json.dump();
}

}  // namespace
}  // namespace hivemind::cli
