// The monitor against moto_server. Dashboards and alarms are created,
// recorded and deleted by teardown. Logs, metrics and costs are read back
// through the status views.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "aws/cloudwatch.h"
#include "aws/cost_explorer.h"
#include "aws/curl_transport.h"
#include "aws/logs.h"
#include "infra/discovery.h"
#include "infra/provisioner.h"
#include "monitor/setup.h"
#include "monitor/status_views.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::monitor {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::system_clock;

constexpr const char* kId = "hm-shop-abc234";
constexpr const char* kGroup = "/hivemind/hm-shop-abc234";

class MonitorMotoTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    state::StoreOptions options;
    options.state_dir = state_dir_.path();
    auto opened = state::Store::open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    store_ = std::move(*opened);
    state::Deployment deployment;
    deployment.id = kId;
    deployment.app_name = "shop";
    deployment.region = "us-east-1";
    deployment.created_at = system_clock::now();
    ASSERT_TRUE(store_->create_deployment(deployment).ok());
    ASSERT_TRUE(aws::logs::create_log_group(client(), kGroup, {}).ok());
  }

  void record(const std::string& logical_name, const std::string& kind, const std::string& id, double cost = 0) {
    state::ResourceIntent intent{kId, logical_name, kind, "", cost};
    ASSERT_TRUE(store_->record_intent(intent).ok());
    ASSERT_TRUE(store_->record_created(kId, logical_name, id, "", "{}").ok());
  }

  MonitoredResources resources() {
    MonitoredResources watched;
    watched.deployment_id = kId;
    watched.region = "us-east-1";
    watched.instance_id = "i-0123456789abcdef0";
    watched.load_balancer = "app/hm-shop-abc234-alb/50dc6c495c0c9188";
    watched.target_group = "targetgroup/hm-shop-abc234-tg/73e2d6bc24d8a067";
    watched.db_instance_id = "hm-shop-abc234-db";
    watched.log_group = kGroup;
    return watched;
  }

  void put_lines(const std::vector<std::string>& lines, std::int64_t first_ms) {
    ASSERT_TRUE(aws::logs::create_log_stream(client(), kGroup, "i-0123456789abcdef0").ok());
    std::vector<aws::logs::LogEvent> events;
    for (size_t i = 0; i < lines.size(); ++i) events.push_back({first_ms + static_cast<std::int64_t>(i), lines[i], {}});
    auto sent = aws::logs::put_log_events(client(), kGroup, "i-0123456789abcdef0", events);
    ASSERT_TRUE(sent.ok()) << sent.error().to_error().describe();
  }

  void queue_costs(const std::string& amount) {
    aws::HttpRequest request;
    request.method = "POST";
    request.url = moto().endpoint() + "/moto-api/static/ce/cost-and-usage-results";
    request.headers = {{"Content-Type", "application/json"}};
    json period = {{"TimePeriod", {{"Start", "2026-12-01"}, {"End", "2026-12-05"}}},
                   {"Total", {{"UnblendedCost", {{"Amount", amount}, {"Unit", "USD"}}}}},
                   {"Groups", json::array()},
                   {"Estimated", true}};
    request.body = json{{"results", json::array({{{"ResultsByTime", json::array({period})}}})}}.dump();
    aws::CurlTransport transport;
    auto response = transport.send(request, aws::TransportOptions{});
    ASSERT_TRUE(response.ok()) << response.error().message;
    ASSERT_EQ(response->status, 201) << response->body;
  }

  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  testing::TempDir state_dir_;
  std::unique_ptr<state::Store> store_;
};

TEST_F(MonitorMotoTest, SetupCreatesAndRecordsDashboardAndAlarms) {
  auto setup = set_up_monitoring(client(), *store_, resources());
  ASSERT_TRUE(setup.ok()) << setup.error().describe();

  auto dashboard = aws::cloudwatch::get_dashboard(client(), "hivemind-hm-shop-abc234");
  ASSERT_TRUE(dashboard.ok());
  EXPECT_EQ(json::parse(dashboard->body), dashboard_body(resources()));

  auto alarms = aws::cloudwatch::describe_alarms(client(), {}, "hivemind-hm-shop-abc234-");
  ASSERT_TRUE(alarms.ok());
  EXPECT_EQ(alarms->size(), 4u);

  auto recorded = store_->resources(kId);
  ASSERT_TRUE(recorded.ok());
  std::vector<std::string> names;
  for (const auto& resource : *recorded) {
    EXPECT_EQ(resource.status, state::ResourceStatus::created) << resource.logical_name;
    names.push_back(resource.logical_name + " " + resource.kind);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"dashboard cloudwatch:dashboard", "alarm_unhealthy_targets cloudwatch:alarm",
                                      "alarm_http_5xx cloudwatch:alarm", "alarm_high_cpu cloudwatch:alarm",
                                      "alarm_low_db_storage cloudwatch:alarm"}));

  auto url = store_->attribute(kId, "dashboard_url");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->value_or(""), dashboard_url("us-east-1", "hivemind-hm-shop-abc234"));
}

TEST_F(MonitorMotoTest, SetupTwiceUpdatesInPlace) {
  ASSERT_TRUE(set_up_monitoring(client(), *store_, resources()).ok());
  ASSERT_TRUE(set_up_monitoring(client(), *store_, resources()).ok());
  auto alarms = aws::cloudwatch::describe_alarms(client(), {}, "hivemind-hm-shop-abc234-");
  ASSERT_TRUE(alarms.ok());
  EXPECT_EQ(alarms->size(), 4u);
  auto recorded = store_->resources(kId);
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->size(), 5u);
}

TEST_F(MonitorMotoTest, DiscoveryAndTeardownRemoveThem) {
  ASSERT_TRUE(set_up_monitoring(client(), *store_, resources()).ok());

  auto found = infra::discover(client(), kId);
  ASSERT_TRUE(found.ok());
  std::set<std::string> kinds;
  for (const auto& resource : *found) kinds.insert(resource.logical_name + " " + resource.kind);
  EXPECT_TRUE(kinds.count("dashboard cloudwatch:dashboard"));
  EXPECT_TRUE(kinds.count("alarm_high_cpu cloudwatch:alarm"));
  EXPECT_TRUE(kinds.count("alarm_low_db_storage cloudwatch:alarm"));

  infra::PlanInputs inputs;
  inputs.deployment_id = kId;
  inputs.app_name = "shop";
  inputs.region = "us-east-1";
  inputs.app_port = 3000;
  inputs.ssh_cidr = "192.0.2.1/32";
  auto plan = infra::build_plan(inputs);
  ASSERT_TRUE(plan.ok());
  infra::InfraContext context(client(), *store_, inputs, *plan, state_dir_.path() / kId);
  context.wait.sleep = [](std::chrono::milliseconds) {};
  auto removed = infra::teardown_recorded(context);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_TRUE(removed->remaining.empty());

  auto dashboards = aws::cloudwatch::list_dashboards(client(), "hivemind-hm-shop-abc234");
  ASSERT_TRUE(dashboards.ok());
  EXPECT_TRUE(dashboards->empty());
  auto alarms = aws::cloudwatch::describe_alarms(client(), {}, "hivemind-hm-shop-abc234-");
  ASSERT_TRUE(alarms.ok());
  EXPECT_TRUE(alarms->empty());
}

TEST_F(MonitorMotoTest, LogsViewFiltersAndGroups) {
  std::int64_t start = now_ms() - 60'000;
  put_lines({"INFO up", "ERROR payment failed for order 17", "INFO GET /", "ERROR payment failed for order 18",
             "FATAL out of connections"},
            start);

  LogsQuery query;
  query.max_lines = 3;
  auto view = fetch_logs(client(), resources(), query);
  ASSERT_TRUE(view.ok()) << view.error().describe();
  ASSERT_EQ(view->lines.size(), 3u);
  EXPECT_EQ(view->lines[0].message, "INFO GET /");
  EXPECT_EQ(view->lines[2].message, "FATAL out of connections");
  ASSERT_EQ(view->groups.size(), 2u);
  EXPECT_EQ(view->groups[0].signature, "ERROR payment failed for order #");
  EXPECT_EQ(view->groups[0].count, 2);

  query.filter = "payment";
  auto filtered = fetch_logs(client(), resources(), query);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->lines.size(), 2u);
  EXPECT_EQ(filtered->lines[1].message, "ERROR payment failed for order 18");
}

TEST_F(MonitorMotoTest, LogsViewSkipsLinesBeforeWindow) {
  put_lines({"ERROR old"}, now_ms() - 3 * 3600'000);
  LogsQuery query;
  query.since = std::chrono::hours(1);
  auto view = fetch_logs(client(), resources(), query);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->lines.empty());
}

TEST_F(MonitorMotoTest, MetricsViewReadsWrittenData) {
  auto now = system_clock::now();
  std::vector<aws::cloudwatch::Dimension> instance{{"InstanceId", "i-0123456789abcdef0"}};
  ASSERT_TRUE(aws::cloudwatch::put_metric_data(client(), "AWS/EC2",
                                               {{"CPUUtilization", 20, "Percent", now - minutes(3), instance},
                                                {"CPUUtilization", 60, "Percent", now - minutes(2), instance}})
                  .ok());
  std::vector<aws::cloudwatch::Dimension> balancer{{"LoadBalancer", resources().load_balancer}};
  ASSERT_TRUE(aws::cloudwatch::put_metric_data(client(), "AWS/ApplicationELB",
                                               {{"TargetResponseTime", 0.1, "Seconds", now - minutes(4), balancer},
                                                {"TargetResponseTime", 0.3, "Seconds", now - minutes(3), balancer},
                                                {"TargetResponseTime", 0.9, "Seconds", now - minutes(2), balancer}})
                  .ok());

  auto view = fetch_metrics(client(), resources(), std::chrono::minutes(30), now);
  ASSERT_TRUE(view.ok()) << view.error().describe();
  ASSERT_FALSE(view->metrics.empty());
  const MetricSummary& cpu = view->metrics[0];
  EXPECT_EQ(cpu.name, "CPU");
  EXPECT_EQ(cpu.values, (std::vector<double>{20, 60}));
  ASSERT_TRUE(view->latency_p50.has_value());
  EXPECT_DOUBLE_EQ(*view->latency_p50, 0.3);
  EXPECT_DOUBLE_EQ(*view->latency_p99, 0.9);
}

TEST_F(MonitorMotoTest, CostsViewShowsActualAndEstimates) {
  record("instance", "ec2:instance", "i-0123456789abcdef0", 7.59);
  record("load_balancer", "elasticloadbalancing:loadbalancer", "arn:lb", 16.43);
  queue_costs("3.21");

  auto view = fetch_costs(client(), *store_, kId, "2026-12-04");
  ASSERT_TRUE(view.ok()) << view.error().describe();
  ASSERT_TRUE(view->month_to_date.has_value());
  EXPECT_TRUE(view->month_to_date->actual);
  EXPECT_DOUBLE_EQ(view->month_to_date->usd, 3.21);
  ASSERT_EQ(view->estimates.size(), 2u);
  EXPECT_EQ(view->estimates[0].label, "instance (ec2:instance)");
  EXPECT_FALSE(view->estimates[0].actual);
  EXPECT_DOUBLE_EQ(view->estimated_monthly_usd, 7.59 + 16.43);
}

TEST_F(MonitorMotoTest, CostsViewWithoutCostExplorerData) {
  auto view = fetch_costs(client(), *store_, kId, "2026-12-31");
  ASSERT_TRUE(view.ok()) << view.error().describe();
  EXPECT_FALSE(view->month_to_date.has_value());
  EXPECT_FALSE(fetch_costs(client(), *store_, kId, "2026-13-01").ok());
}

TEST_F(MonitorMotoTest, ParallelViewsReturnAllThree) {
  put_lines({"ERROR x"}, now_ms() - 1000);
  StatusViews views = fetch_status_views(client(), *store_, resources(), StatusRequest{});
  ASSERT_TRUE(views.logs.has_value());
  ASSERT_TRUE(views.metrics.has_value());
  ASSERT_TRUE(views.costs.has_value());
  EXPECT_TRUE(views.logs->ok());
  EXPECT_TRUE(views.metrics->ok());
  EXPECT_TRUE(views.costs->ok());
  EXPECT_EQ((*views.logs)->lines.size(), 1u);
}

TEST_F(MonitorMotoTest, CheckFailsOnCriticalErrors) {
  LogsQuery query;
  auto quiet = run_check(client(), resources(), query);
  ASSERT_TRUE(quiet.ok()) << quiet.error().describe();
  EXPECT_TRUE(quiet->ok);

  put_lines({"INFO up", "FATAL cannot reach database"}, now_ms() - 1000);
  auto failing = run_check(client(), resources(), query);
  ASSERT_TRUE(failing.ok());
  EXPECT_FALSE(failing->ok);
  ASSERT_EQ(failing->problems.size(), 1u);
  EXPECT_EQ(failing->problems[0], "fatal error seen 1 times: FATAL cannot reach database");
}

TEST(CheckHealth, AlarmInAlarmStateFails) {
  aws::cloudwatch::Alarm alarm;
  alarm.name = "hivemind-hm-shop-abc234-unhealthy_targets";
  alarm.description = "A target fails.";
  alarm.state = "ALARM";
  CheckResult result = check_health(LogsView{}, {alarm}, system_clock::now());
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0], "alarm hivemind-hm-shop-abc234-unhealthy_targets is in state ALARM: A target fails.");
  alarm.state = "OK";
  EXPECT_TRUE(check_health(LogsView{}, {alarm}, system_clock::now()).ok);
}

}  // namespace
}  // namespace hivemind::monitor
