// The CloudWatch agent stand-in: its configuration read back from the user
// data that the provisioner writes, and the shipper's lines and metrics
// arriving in moto_server.

#include "cwagent/shipper.h"

#include <gtest/gtest.h>

#include <fstream>

#include "aws/cloudwatch.h"
#include "aws/logs.h"
#include "cwagent/agent_config.h"
#include "infra/user_data.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::cwagent {
namespace {

using std::chrono::minutes;
using std::chrono::system_clock;

constexpr const char* kGroup = "/hivemind/hm-shop-abc234";
constexpr const char* kInstance = "i-0123456789abcdef0";

TEST(AgentConfig, ReadsTheProvisionersUserData) {
  infra::PlanInputs inputs;
  inputs.app_name = "shop";
  inputs.deployment_id = "hm-shop-abc234";
  inputs.runtime = "node";
  std::string user_data = infra::build_user_data(inputs, kGroup);

  std::optional<std::string> text = agent_config_in_user_data(user_data);
  ASSERT_TRUE(text.has_value()) << user_data;
  auto config = parse_agent_config(*text, kInstance);

  ASSERT_TRUE(config.ok()) << config.error().describe();
  ASSERT_EQ(config->files.size(), 2u);
  EXPECT_EQ(config->files[0].file_path, "/opt/hivemind/shop/logs/app.log");
  EXPECT_EQ(config->files[0].log_group_name, kGroup);
  EXPECT_EQ(config->files[0].log_stream_name, "i-0123456789abcdef0/app");
  EXPECT_EQ(config->files[1].file_path, "/var/log/cloud-init-output.log");
  EXPECT_EQ(config->files[1].log_stream_name, "i-0123456789abcdef0/system");
  EXPECT_EQ(config->metrics_namespace, "HiveMind");
  EXPECT_TRUE(config->memory);
  EXPECT_TRUE(config->disk);
  EXPECT_EQ(config->metrics_interval, std::chrono::seconds(60));
}

TEST(AgentConfig, UserDataWithoutAgentHasNone) {
  EXPECT_FALSE(agent_config_in_user_data("#!/bin/bash\necho hello\n").has_value());
  EXPECT_FALSE(agent_config_in_user_data("cat > amazon-cloudwatch-agent.json <<'AGENT'\n{}\n").has_value())
      << "a here-document without its end line";
}

TEST(AgentConfig, StreamDefaultsToInstanceId) {
  auto config = parse_agent_config(
      R"({"agent": {"metrics_collection_interval": 10},
          "logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/a.log", "log_group_name": "g"}]}}}})",
      kInstance);

  ASSERT_TRUE(config.ok()) << config.error().describe();
  ASSERT_EQ(config->files.size(), 1u);
  EXPECT_EQ(config->files[0].log_stream_name, kInstance);
  EXPECT_TRUE(config->metrics_namespace.empty()) << "no metrics section, no metrics";
  EXPECT_EQ(config->metrics_interval, std::chrono::seconds(10));
}

TEST(AgentConfig, RejectsEntryWithoutLogGroup) {
  auto config = parse_agent_config(
      R"({"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/a.log"}]}}}})", kInstance);

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("lacks file_path or log_group_name"), std::string::npos);
}

TEST(AgentConfig, RejectsText) {
  EXPECT_FALSE(parse_agent_config("not json", kInstance).ok());
  EXPECT_FALSE(parse_agent_config("[]", kInstance).ok());
}

class ShipperTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    ASSERT_TRUE(aws::logs::create_log_group(client(), kGroup, {}).ok());
    file_ = temp_.path() / "logs" / "app.log";
    std::filesystem::create_directories(file_.parent_path());
  }

  testing::TempDir temp_;
  std::filesystem::path file_;
};

TEST_F(ShipperTest, SendsNewLinesOnce) {
  { std::ofstream(file_) << "INFO up\nERROR one\npartial"; }
  ShipTarget target{kGroup, "i-0123456789abcdef0/app", kInstance, file_, "HiveMind", true};
  ShipperState state;

  auto first = ship_once(client(), target, state);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->lines_sent, 2);
  EXPECT_GE(first->metrics_sent, 2);

  { std::ofstream(file_, std::ios::app) << " line\n"; }
  auto second = ship_once(client(), target, state);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->lines_sent, 1);

  auto events = aws::logs::get_log_events(client(), kGroup, "i-0123456789abcdef0/app");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].message, "partial line");

  auto now = system_clock::now();
  aws::cloudwatch::MetricQuery memory{"memory", "HiveMind", "mem_used_percent", {{"InstanceId", kInstance}},
                                      60,       "Average"};
  auto series = aws::cloudwatch::get_metric_data(client(), {memory}, now - minutes(5), now + minutes(1));
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_FALSE(series->front().values.empty());
}

TEST_F(ShipperTest, NoNamespaceSendsNoMetrics) {
  { std::ofstream(file_) << "sshd started\n"; }
  ShipTarget target{kGroup, "i-0123456789abcdef0/system", kInstance, file_, "", false};
  ShipperState state;

  auto shipped = ship_once(client(), target, state);

  ASSERT_TRUE(shipped.ok()) << shipped.error().describe();
  EXPECT_EQ(shipped->lines_sent, 1);
  EXPECT_EQ(shipped->metrics_sent, 0);
}

TEST_F(ShipperTest, TruncatedFileIsReadFromStart) {
  { std::ofstream(file_) << "one\ntwo\n"; }
  ShipTarget target{kGroup, "s", kInstance, file_, "", false};
  ShipperState state;
  ASSERT_TRUE(ship_once(client(), target, state).ok());

  { std::ofstream(file_, std::ios::trunc) << "three\n"; }
  auto shipped = ship_once(client(), target, state);

  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(shipped->lines_sent, 1);
  auto events = aws::logs::get_log_events(client(), kGroup, "s");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].message, "three");
}

TEST_F(ShipperTest, ManyLinesGoInSeveralBatches) {
  {
    std::ofstream out(file_);
    for (int i = 0; i < 12'000; ++i) out << "line " << i << "\n";
  }
  ShipTarget target{kGroup, "s", kInstance, file_, "", false};
  ShipperState state;

  auto shipped = ship_once(client(), target, state);

  ASSERT_TRUE(shipped.ok()) << shipped.error().describe();
  EXPECT_EQ(shipped->lines_sent, 12'000);
}

TEST_F(ShipperTest, MissingFileSendsNothing) {
  ShipTarget target{kGroup, "s", kInstance, temp_.path() / "absent.log", "", false};
  ShipperState state;

  auto shipped = ship_once(client(), target, state);

  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(shipped->lines_sent, 0);
}

TEST(Shipper, MemoryFromMeminfo) {
  EXPECT_DOUBLE_EQ(*memory_used_percent("MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable:  250 kB\n"), 75.0);
  EXPECT_FALSE(memory_used_percent("MemTotal: 1000 kB\n").has_value());
}

}  // namespace
}  // namespace hivemind::cwagent
