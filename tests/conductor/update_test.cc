// `Conductor::update` against moto: the checks before an update starts, and
// a blue-green update whose new instance cannot be reached. The deployment
// is made by the real Conductor (analyze, build, provision against moto).
// No host runs behind moto here, so the stages after provision are replaced
// by ones that only register the instance in the target group. The
// successful switch needs real hosts and runs in tests/e2e/update_test.cc.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "conductor/conductor.h"
#include "sandbox/address_map.h"
#include "state/lock.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::conductor {
namespace {

namespace fs = std::filesystem;

// Registers the instance in the target group, as the deploy stage does after
// installing the app, and nothing else.
Status register_only(StageContext& context) {
  auto instance = context.store->find_resource(context.deployment.id, "instance");
  auto group = context.store->find_resource(context.deployment.id, "target_group");
  if (!instance || !group || !instance->has_value() || !group->has_value()) {
    return fail(make_error("test.missing", "instance or target group not recorded"));
  }
  auto registered =
      aws::elbv2::register_targets(*context.client, (*group)->physical_id, {{(*instance)->physical_id, 0}});
  if (!registered) return fail(registered.error().to_error());
  return ok_unit();
}

Status nothing(StageContext&) { return ok_unit(); }

class UpdateTest : public hivemind::testing::MotoTest {
 protected:
  void SetUp() override {
    if (std::system("command -v npm >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs npm (Debian package npm)";
    MotoTest::SetUp();
    write_app();

    setup_.state_dir = folder_.path() / "state";
    setup_.target = Target::kSandbox;
    setup_.client_config = moto().client_config();
    setup_.stages = {{state::StageName::deploy, register_only},
                     {state::StageName::secure, nothing},
                     {state::StageName::verify, nothing},
                     {state::StageName::monitor, nothing},
                     {state::StageName::report, nothing}};
    setup_.wait.first_delay = std::chrono::milliseconds(100);
    setup_.wait.max_delay = std::chrono::milliseconds(500);
    setup_.update_deploy.address_map = std::chrono::seconds(0);
    setup_.update_deploy.ssh_attempts = 1;
    setup_.command_line = "update_test";
    auto opened = Conductor::open(setup_);
    ASSERT_TRUE(opened) << opened.error().describe();
    conductor_ = std::move(*opened);
  }

  void write_app() {
    app_ = folder_.path() / "app";
    fs::create_directories(app_);
    std::ofstream(app_ / "package.json")
        << R"({"name": "update-demo", "version": "1.0.0", "private": true, "scripts": {"start": "node server.js"}})";
    std::ofstream(app_ / "server.js") << "require('http').createServer((q, r) => r.end('v1'))"
                                         ".listen(Number(process.env.PORT || 3000));\n";
  }

  // Deploys the app and returns its id, or an empty string after a failed assertion.
  std::string deploy() {
    DeployOptions options;
    options.source = app_.string();
    auto deployment = conductor_->deploy(options);
    EXPECT_TRUE(deployment) << deployment.error().describe();
    if (!deployment) return {};
    EXPECT_EQ(deployment->status, state::DeploymentStatus::deployed)
        << (deployment->failure ? deployment->failure->message : "");
    return deployment->id;
  }

  state::Resource resource(const std::string& id, const std::string& logical_name) {
    auto found = conductor_->store().find_resource(id, logical_name);
    if (!found || !found->has_value()) return {};
    return **found;
  }

  std::string instance_state(const std::string& instance_id) {
    auto listed = aws::ec2::describe_instances(client(), {instance_id});
    if (!listed || listed->empty()) return "(not found)";
    return listed->front().state;
  }

  hivemind::testing::TempDir folder_;
  fs::path app_;
  ConductorSetup setup_;
  std::unique_ptr<Conductor> conductor_;
};

TEST_F(UpdateTest, UnknownIdIsRejected) {
  auto updated = conductor_->update("hm-nothing-aaaaaa", {});
  ASSERT_FALSE(updated);
  EXPECT_NE(updated.error().message.find("hm-nothing-aaaaaa"), std::string::npos) << updated.error().describe();
}

TEST_F(UpdateTest, InvalidIdIsRejected) {
  auto updated = conductor_->update("not an id", {});
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, "conductor.invalid_id");
}

TEST_F(UpdateTest, FailedDeploymentIsRejected) {
  state::Deployment deployment;
  deployment.id = state::make_deployment_id("demo");
  deployment.app_name = "demo";
  deployment.status = state::DeploymentStatus::failed;
  ASSERT_TRUE(conductor_->store().create_deployment(deployment));

  auto updated = conductor_->update(deployment.id, {});
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, "conductor.not_deployed");
  EXPECT_NE(updated.error().remediation.find("hivemind retry " + deployment.id), std::string::npos)
      << updated.error().describe();
}

TEST_F(UpdateTest, HeldLockIsRejected) {
  std::string id = deploy();
  ASSERT_FALSE(id.empty());
  auto lock = take_lock(setup_, id);
  ASSERT_TRUE(lock) << lock.error().describe();

  auto updated = conductor_->update(id, {});
  ASSERT_FALSE(updated);
  EXPECT_EQ(conductor_->store().find_deployment(id)->status, state::DeploymentStatus::deployed);
  EXPECT_EQ(resource(id, "instance_green").logical_name, "") << "no new instance may be launched";
}

TEST_F(UpdateTest, UnreachableGreenIsRemovedAndBlueKeepsServing) {
  std::string id = deploy();
  ASSERT_FALSE(id.empty());
  state::Resource blue = resource(id, "instance");
  std::string group_arn = resource(id, "target_group").physical_id;
  std::string version = conductor_->store().find_deployment(id)->version;
  // An address map without the new instance: the deploy onto it fails.
  fs::create_directories(sandbox::address_map_path(setup_.state_dir).parent_path());
  ASSERT_TRUE(sandbox::write_address_map(sandbox::address_map_path(setup_.state_dir), sandbox::AddressMap{}));

  auto updated = conductor_->update(id, {});

  ASSERT_FALSE(updated);
  EXPECT_NE(updated.error().message.find("Instance " + blue.physical_id + " still serves version " + version),
            std::string::npos)
      << updated.error().describe();
  EXPECT_NE(updated.error().message.find("The new instance was deleted."), std::string::npos)
      << updated.error().describe();

  state::Resource green = resource(id, "instance_green");
  EXPECT_EQ(green.status, state::ResourceStatus::deleted);
  EXPECT_FALSE(green.physical_id.empty());
  EXPECT_NE(green.physical_id, blue.physical_id);
  EXPECT_EQ(instance_state(green.physical_id), "terminated");

  state::Resource still = resource(id, "instance");
  EXPECT_EQ(still.physical_id, blue.physical_id);
  EXPECT_EQ(still.status, state::ResourceStatus::created);
  EXPECT_EQ(instance_state(blue.physical_id), "running");
  auto health = aws::elbv2::describe_target_health(client(), group_arn);
  ASSERT_TRUE(health);
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ(health->front().target_id, blue.physical_id);

  auto deployment = conductor_->store().find_deployment(id);
  ASSERT_TRUE(deployment);
  EXPECT_EQ(deployment->status, state::DeploymentStatus::deployed);
  EXPECT_EQ(deployment->version, version);
}

TEST_F(UpdateTest, KilledUpdateCanRunAgain) {
  std::string id = deploy();
  ASSERT_FALSE(id.empty());
  state::Resource blue = resource(id, "instance");
  // A killed update leaves the status updating, its lock free, and maybe a
  // recorded new instance.
  ASSERT_TRUE(conductor_->store().set_status(id, state::DeploymentStatus::updating));
  ASSERT_TRUE(conductor_->store().record_intent({id, "instance_green", "ec2:instance", "", 0.0}));
  fs::create_directories(sandbox::address_map_path(setup_.state_dir).parent_path());
  ASSERT_TRUE(sandbox::write_address_map(sandbox::address_map_path(setup_.state_dir), sandbox::AddressMap{}));

  auto updated = conductor_->update(id, {});

  // It gets as far as deploying onto a new instance, which the empty address map stops.
  ASSERT_FALSE(updated);
  EXPECT_NE(updated.error().message.find("still serves"), std::string::npos) << updated.error().describe();
  EXPECT_EQ(resource(id, "instance_green").status, state::ResourceStatus::deleted);
  EXPECT_EQ(resource(id, "instance").physical_id, blue.physical_id);
  EXPECT_EQ(conductor_->store().find_deployment(id)->status, state::DeploymentStatus::deployed);
}

TEST_F(UpdateTest, UpdateIsRecordedInTimeline) {
  std::string id = deploy();
  ASSERT_FALSE(id.empty());
  fs::create_directories(sandbox::address_map_path(setup_.state_dir).parent_path());
  ASSERT_TRUE(sandbox::write_address_map(sandbox::address_map_path(setup_.state_dir), sandbox::AddressMap{}));

  ASSERT_FALSE(conductor_->update(id, {}));

  auto events = conductor_->store().events(id);
  ASSERT_TRUE(events);
  std::vector<std::string> lines;
  for (const state::Event& event : *events) {
    if (event.action.rfind("update", 0) == 0) lines.push_back(event.action + " " + event.outcome);
  }
  std::vector<std::string> expected = {"update started",
                                       "update: build the new version started",
                                       "update: build the new version succeeded",
                                       "update: launch the new instance started",
                                       "update: launch the new instance succeeded",
                                       "update: deploy onto " + resource(id, "instance_green").physical_id + " started",
                                       "update: deploy onto " + resource(id, "instance_green").physical_id + " failed",
                                       "update failed"};
  EXPECT_EQ(lines, expected);
  for (const state::Event& event : *events) {
    if (event.action == "update: launch the new instance" && event.outcome == "succeeded") {
      EXPECT_EQ(event.detail.rfind("took ", 0), 0u) << event.detail;
    }
  }
}

}  // namespace
}  // namespace hivemind::conductor
