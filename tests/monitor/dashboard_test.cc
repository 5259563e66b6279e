// The dashboard body and the alarms as exact data.

#include "monitor/dashboard.h"

#include <gtest/gtest.h>

namespace hivemind::monitor {
namespace {

MonitoredResources instance_only() {
  MonitoredResources resources;
  resources.deployment_id = "hm-shop-abc234";
  resources.region = "eu-west-1";
  resources.instance_id = "i-0123";
  resources.log_group = "/hivemind/hm-shop-abc234";
  return resources;
}

MonitoredResources everything() {
  MonitoredResources resources = instance_only();
  resources.load_balancer = "app/hm-shop-abc234-alb/50dc6c495c0c9188";
  resources.target_group = "targetgroup/hm-shop-abc234-tg/73e2d6bc24d8a067";
  resources.db_instance_id = "hm-shop-abc234-db";
  return resources;
}

TEST(Dashboard, InstanceOnlyBodyIsExact) {
  const std::string expected =
      R"j({"widgets":[)j"
      R"j({"height":6,"properties":{"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-0123"]],"period":300,)j"
      R"j("region":"eu-west-1","stacked":false,"stat":"Average","title":"EC2 CPU (%)","view":"timeSeries"},)j"
      R"j("type":"metric","width":12,"x":0,"y":0},)j"
      R"j({"height":6,"properties":{"metrics":[["AWS/EC2","NetworkIn","InstanceId","i-0123",{"stat":"Sum"}],)j"
      R"j(["AWS/EC2","NetworkOut","InstanceId","i-0123",{"stat":"Sum"}]],"period":300,"region":"eu-west-1",)j"
      R"j("stacked":false,"stat":"Sum","title":"EC2 network (bytes)","view":"timeSeries"},"type":"metric",)j"
      R"j("width":12,"x":12,"y":0},)j"
      R"j({"height":6,"properties":{"metrics":[["AWS/EC2","EBSReadBytes","InstanceId","i-0123",{"stat":"Sum"}],)j"
      R"j(["AWS/EC2","EBSWriteBytes","InstanceId","i-0123",{"stat":"Sum"}],)j"
      R"j(["HiveMind","disk_used_percent","InstanceId","i-0123"]],"period":300,"region":"eu-west-1",)j"
      R"j("stacked":false,"stat":"Average","title":"EC2 disk (bytes)","view":"timeSeries"},"type":"metric",)j"
      R"j("width":12,"x":0,"y":6},)j"
      R"j({"height":6,"properties":{"metrics":[["HiveMind","mem_used_percent","InstanceId","i-0123"]],)j"
      R"j("period":300,"region":"eu-west-1","stacked":false,"stat":"Average","title":"Memory used (%)",)j"
      R"j("view":"timeSeries"},"type":"metric","width":12,"x":12,"y":6},)j"
      R"j({"height":6,"properties":{"query":"SOURCE '/hivemind/hm-shop-abc234' | fields @timestamp, @message | )j"
      R"j(filter @message like /(ERROR|FATAL|Exception|Traceback| 5\\d\\d )/ | sort @timestamp desc | limit 50",)j"
      R"j("region":"eu-west-1","title":"Recent errors","view":"table"},"type":"log","width":12,"x":0,"y":12}]})j";
  EXPECT_EQ(dashboard_body(instance_only()).dump(), expected);
}

TEST(Dashboard, FullDeploymentHasEveryWidget) {
  nlohmann::json body = dashboard_body(everything());
  std::vector<std::string> titles;
  for (const auto& widget : body["widgets"]) titles.push_back(widget["properties"]["title"]);
  EXPECT_EQ(titles,
            (std::vector<std::string>{"EC2 CPU (%)", "EC2 network (bytes)", "EC2 disk (bytes)", "Memory used (%)",
                                      "ALB requests", "ALB latency (s)", "ALB 5xx", "Healthy hosts", "RDS CPU (%)",
                                      "RDS connections", "RDS free storage (bytes)", "Recent errors"}));
  EXPECT_EQ(body["widgets"][7]["properties"]["metrics"][0].dump(),
            R"j(["AWS/ApplicationELB","HealthyHostCount","TargetGroup",)j"
            R"j("targetgroup/hm-shop-abc234-tg/73e2d6bc24d8a067","LoadBalancer",)j"
            R"j("app/hm-shop-abc234-alb/50dc6c495c0c9188"])j");
}

TEST(Dashboard, AlarmsCoverEveryResource) {
  auto alarms = alarm_specs(everything());
  ASSERT_EQ(alarms.size(), 4u);
  EXPECT_EQ(alarms[0].name, "hivemind-hm-shop-abc234-unhealthy_targets");
  EXPECT_EQ(alarms[0].metric_name, "UnHealthyHostCount");
  EXPECT_EQ(alarms[0].comparison_operator, "GreaterThanThreshold");
  EXPECT_EQ(alarms[1].name, "hivemind-hm-shop-abc234-http_5xx");
  EXPECT_EQ(alarms[1].statistic, "Sum");
  EXPECT_EQ(alarms[2].name, "hivemind-hm-shop-abc234-high_cpu");
  EXPECT_DOUBLE_EQ(alarms[2].threshold, 80);
  EXPECT_EQ(alarms[3].name, "hivemind-hm-shop-abc234-low_db_storage");
  EXPECT_EQ(alarms[3].comparison_operator, "LessThanThreshold");
  EXPECT_DOUBLE_EQ(alarms[3].threshold, 2147483648.0);
}

TEST(Dashboard, InstanceOnlyHasCpuAlarmOnly) {
  auto alarms = alarm_specs(instance_only());
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].name, "hivemind-hm-shop-abc234-high_cpu");
}

TEST(Dashboard, UrlNamesRegionAndDashboard) {
  EXPECT_EQ(dashboard_url("eu-west-1", "hivemind-hm-shop-abc234"),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
            "#dashboards:name=hivemind-hm-shop-abc234");
}

TEST(Dashboard, ArnDimensionsAreSuffixes) {
  EXPECT_EQ(arn_dimension("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"),
            "app/web/50dc6c495c0c9188");
  EXPECT_EQ(arn_dimension("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/73e2d6bc24d8a067"),
            "targetgroup/tg/73e2d6bc24d8a067");
  EXPECT_EQ(arn_dimension("i-0123"), "i-0123");
  EXPECT_EQ(arn_dimension(""), "");
}

}  // namespace
}  // namespace hivemind::monitor
