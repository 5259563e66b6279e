#include <gtest/gtest.h>

#include <filesystem>

#include "conductor/stages.h"
#include "sandbox/address_map.h"
#include "state/store.h"
#include "support/fault_server.h"
#include "support/temp_dir.h"

namespace hivemind::conductor {
namespace {

using hivemind::testing::FaultServer;
using hivemind::testing::ScriptedReply;

constexpr const char* kBalancerDns = "hm-demo-lb-1.us-east-1.elb.amazonaws.com";

std::uint16_t port_of(const FaultServer& server) {
  std::string endpoint = server.endpoint();
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

// A sandbox deployment with an instance and a load balancer recorded as
// moto reports them (invented public addresses), and an address map that
// points both at a loopback FaultServer.
class VerifyStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = state::Store::open({folder_.path()});
    ASSERT_TRUE(opened.ok());
    store_ = std::move(*opened);

    context_.deployment.id = state::make_deployment_id("demo");
    context_.deployment.app_name = "demo";
    ASSERT_TRUE(store_->create_deployment(context_.deployment).ok());
    record("instance", "i-0123456789abcdef0", R"({"public_ip":"54.0.2.10","http_tokens":"required"})");
    record("load_balancer", "arn:aws:elasticloadbalancing:lb/demo",
           std::string(R"({"dns_name":")") + kBalancerDns + "\"}");

    context_.target = Target::kSandbox;
    context_.state_dir = folder_.path();
    context_.paths = state::deployment_paths(folder_.path(), context_.deployment.id);
    context_.store = store_.get();
    context_.plan_inputs.emplace();
    context_.plan_inputs->app_port = port_of(app_);
    context_.plan_inputs->health_check.path = "/health";
  }

  void record(const std::string& logical_name, const std::string& physical_id, const std::string& attributes) {
    state::ResourceIntent intent{context_.deployment.id, logical_name, "test", "", 0.0};
    ASSERT_TRUE(store_->record_intent(intent).ok());
    ASSERT_TRUE(store_->record_created(context_.deployment.id, logical_name, physical_id, "", attributes).ok());
  }

  void write_map(bool with_balancer) {
    sandbox::AddressMap map;
    map.hosts["i-0123456789abcdef0"] = sandbox::HostEntry{
        "127.0.0.1", static_cast<std::uint16_t>(hivemind::testing::closed_loopback_port()), "127.0.0.1", "ec2-user"};
    if (with_balancer) map.load_balancers[kBalancerDns] = {"demo", {{80, {"127.0.0.1", port_of(balancer_)}}}, ""};
    std::filesystem::path file = sandbox::address_map_path(folder_.path());
    std::filesystem::create_directories(file.parent_path());
    Status written = sandbox::write_address_map(file, map);
    ASSERT_TRUE(written.ok()) << written.error().describe();
  }

  std::vector<state::VerificationResult> stored() {
    auto rows = store_->verifications(context_.deployment.id);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<state::VerificationResult>{};
  }

  hivemind::testing::TempDir folder_;
  FaultServer app_;
  FaultServer balancer_;
  std::unique_ptr<state::Store> store_;
  StageContext context_;
};

TEST_F(VerifyStageTest, PassesWhenAppAndBalancerRespond) {
  write_map(true);

  Status status = run_verify(context_);

  ASSERT_TRUE(status.ok()) << status.error().describe();
  auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].check, "http_instance");
  EXPECT_TRUE(rows[0].passed);
  EXPECT_EQ(rows[1].check, "http_load_balancer");
  EXPECT_TRUE(rows[1].passed);
  EXPECT_EQ(app_.requests().at(0).target, "/health");
}

TEST_F(VerifyStageTest, UnmappedBalancerFailsWithoutFallback) {
  write_map(false);

  Status status = run_verify(context_);

  ASSERT_FALSE(status.ok());
  auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[1].passed);
  EXPECT_NE(rows[1].detail.find(kBalancerDns), std::string::npos) << rows[1].detail;
  EXPECT_EQ(balancer_.request_count(), 0);
}

TEST_F(VerifyStageTest, WrongStatusIsStoredAsFailure) {
  write_map(true);
  balancer_.set_default(ScriptedReply::respond(502, "bad gateway"));

  Status status = run_verify(context_);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("http_load_balancer (wrong_status)"), std::string::npos)
      << status.error().message;
}

}  // namespace
}  // namespace hivemind::conductor
