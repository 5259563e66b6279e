// Typed CloudWatch calls against moto_server: metric data in and out,
// dashboards and alarms.

#include "aws/cloudwatch.h"

#include <gtest/gtest.h>

#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using std::chrono::minutes;
using std::chrono::system_clock;
using testing::MotoTest;

class CloudWatchTest : public MotoTest {};

TEST(CloudWatchTime, FormatsIso8601Utc) {
  system_clock::time_point time = system_clock::from_time_t(1'700'000'000) + std::chrono::milliseconds(750);
  EXPECT_EQ(cloudwatch::format_time(time), "2023-11-14T22:13:20Z");
}

TEST_F(CloudWatchTest, PutMetricDataIsReadBack) {
  system_clock::time_point now = system_clock::now();
  std::vector<cloudwatch::Dimension> dimensions{{"InstanceId", "i-0123456789abcdef0"}};
  ASSERT_AWS_OK(cloudwatch::put_metric_data(client(), "HiveMind/Test",
                                            {{"CPUUtilization", 40, "Percent", now - minutes(2), dimensions},
                                             {"CPUUtilization", 60, "Percent", now - minutes(2), dimensions}}));

  cloudwatch::MetricQuery query{"cpu", "HiveMind/Test", "CPUUtilization", dimensions, 300, "Average"};
  auto series = cloudwatch::get_metric_data(client(), {query}, now - minutes(30), now + minutes(5));
  ASSERT_AWS_OK(series);
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ(series->front().id, "cpu");
  ASSERT_EQ(series->front().values.size(), 1u);
  EXPECT_DOUBLE_EQ(series->front().values.front(), 50);
  EXPECT_EQ(series->front().timestamps.size(), 1u);
}

TEST_F(CloudWatchTest, LargeBatchesAreSplit) {
  system_clock::time_point now = system_clock::now();
  std::vector<cloudwatch::MetricDatum> data;
  for (int i = 0; i < 1001; ++i) data.push_back({"Requests", 1, "Count", now - minutes(1), {}});
  ASSERT_AWS_OK(cloudwatch::put_metric_data(client(), "HiveMind/Batch", data));

  cloudwatch::MetricQuery query{"requests", "HiveMind/Batch", "Requests", {}, 600, "SampleCount"};
  auto series = cloudwatch::get_metric_data(client(), {query}, now - minutes(30), now + minutes(5));
  ASSERT_AWS_OK(series);
  ASSERT_EQ(series->size(), 1u);
  ASSERT_EQ(series->front().values.size(), 1u);
  EXPECT_DOUBLE_EQ(series->front().values.front(), 1001);
}

TEST_F(CloudWatchTest, DashboardRoundTrips) {
  const std::string body =
      R"({"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"hm"}}]})";
  auto messages = cloudwatch::put_dashboard(client(), "hm-test-abc123", body);
  ASSERT_AWS_OK(messages);
  EXPECT_TRUE(messages->empty());

  auto dashboard = cloudwatch::get_dashboard(client(), "hm-test-abc123");
  ASSERT_AWS_OK(dashboard);
  EXPECT_EQ(dashboard->body, body);
  EXPECT_FALSE(dashboard->arn.empty());

  auto listed = cloudwatch::list_dashboards(client(), "hm-");
  ASSERT_AWS_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, "hm-test-abc123");

  ASSERT_AWS_OK(cloudwatch::delete_dashboards(client(), {"hm-test-abc123"}));
  EXPECT_EQ(code_of(cloudwatch::get_dashboard(client(), "hm-test-abc123")), "ResourceNotFound");
}

TEST_F(CloudWatchTest, AlarmIsStoredWithTags) {
  cloudwatch::Alarm alarm;
  alarm.name = "hm-test-abc123-cpu-high";
  alarm.description = "CPU above 80% for 10 minutes";
  alarm.namespace_name = "AWS/EC2";
  alarm.metric_name = "CPUUtilization";
  alarm.dimensions = {{"InstanceId", "i-0123456789abcdef0"}};
  alarm.period_seconds = 300;
  alarm.evaluation_periods = 2;
  alarm.threshold = 80;
  ASSERT_AWS_OK(cloudwatch::put_metric_alarm(client(), alarm, kTestTags));

  auto alarms = cloudwatch::describe_alarms(client(), {}, "hm-test-abc123");
  ASSERT_AWS_OK(alarms);
  ASSERT_EQ(alarms->size(), 1u);
  const cloudwatch::Alarm& found = alarms->front();
  EXPECT_EQ(found.metric_name, "CPUUtilization");
  EXPECT_DOUBLE_EQ(found.threshold, 80);
  EXPECT_EQ(found.evaluation_periods, 2);
  EXPECT_EQ(found.comparison_operator, "GreaterThanThreshold");
  ASSERT_EQ(found.dimensions.size(), 1u);
  EXPECT_EQ(found.dimensions.front().value, "i-0123456789abcdef0");

  auto tags = client().query(monitoring_service(), "ListTagsForResource", {{"ResourceARN", found.arn}});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag(calls::member_tags(tags->result.child("Tags")), "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(cloudwatch::delete_alarms(client(), {alarm.name}));
  auto after = cloudwatch::describe_alarms(client(), {alarm.name});
  ASSERT_AWS_OK(after);
  EXPECT_TRUE(after->empty());
}

}  // namespace
}  // namespace hivemind::aws
