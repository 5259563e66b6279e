#include "monitor/dashboard.h"

#include <fmt/format.h>

namespace hivemind::monitor {
namespace {

using nlohmann::json;

constexpr int kWidgetWidth = 12;
constexpr int kWidgetHeight = 6;

// One line of a metric widget: namespace, metric name, then dimension pairs.
json metric(const std::string& namespace_name, const std::string& name, const std::string& dimension,
            const std::string& value, const std::string& statistic = "") {
  json line = json::array({namespace_name, name, dimension, value});
  if (!statistic.empty()) line.push_back(json{{"stat", statistic}});
  return line;
}

// Places widgets two to a row, in the order they are added.
class Layout {
 public:
  explicit Layout(std::string region) : region_(std::move(region)) {}

  void add_metrics(const std::string& title, json metrics, const std::string& statistic = "Average") {
    json properties{{"title", title}, {"region", region_}, {"view", "timeSeries"}, {"stacked", false},
                    {"period", 300},  {"stat", statistic}, {"metrics", metrics}};
    add("metric", std::move(properties));
  }

  void add_log(const std::string& title, const std::string& log_group) {
    std::string query = fmt::format(
        "SOURCE '{}' | fields @timestamp, @message | filter @message like /(ERROR|FATAL|Exception|Traceback| 5\\d\\d "
        ")/ "
        "| sort @timestamp desc | limit 50",
        log_group);
    add("log", json{{"title", title}, {"region", region_}, {"view", "table"}, {"query", query}});
  }

  json widgets() const { return widgets_; }

 private:
  void add(const std::string& type, json properties) {
    int index = static_cast<int>(widgets_.size());
    widgets_.push_back(json{{"type", type},
                            {"x", (index % 2) * kWidgetWidth},
                            {"y", (index / 2) * kWidgetHeight},
                            {"width", kWidgetWidth},
                            {"height", kWidgetHeight},
                            {"properties", std::move(properties)}});
  }

  std::string region_;
  json widgets_ = json::array();
};

void add_instance_widgets(Layout& layout, const std::string& instance) {
  layout.add_metrics("EC2 CPU (%)", json::array({metric("AWS/EC2", "CPUUtilization", "InstanceId", instance)}));
  layout.add_metrics("EC2 network (bytes)",
                     json::array({metric("AWS/EC2", "NetworkIn", "InstanceId", instance, "Sum"),
                                  metric("AWS/EC2", "NetworkOut", "InstanceId", instance, "Sum")}),
                     "Sum");
  layout.add_metrics("EC2 disk (bytes)",
                     json::array({metric("AWS/EC2", "EBSReadBytes", "InstanceId", instance, "Sum"),
                                  metric("AWS/EC2", "EBSWriteBytes", "InstanceId", instance, "Sum"),
                                  metric(kAgentNamespace, "disk_used_percent", "InstanceId", instance)}));
  layout.add_metrics("Memory used (%)",
                     json::array({metric(kAgentNamespace, "mem_used_percent", "InstanceId", instance)}));
}

void add_load_balancer_widgets(Layout& layout, const MonitoredResources& resources) {
  const std::string& balancer = resources.load_balancer;
  layout.add_metrics("ALB requests",
                     json::array({metric("AWS/ApplicationELB", "RequestCount", "LoadBalancer", balancer)}), "Sum");
  layout.add_metrics("ALB latency (s)",
                     json::array({metric("AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", balancer, "p50"),
                                  metric("AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", balancer, "p90"),
                                  metric("AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", balancer, "p99")}),
                     "p90");
  layout.add_metrics("ALB 5xx",
                     json::array({metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", balancer),
                                  metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", balancer)}),
                     "Sum");
  if (!resources.target_group.empty()) {
    json healthy = json::array(
        {"AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", resources.target_group, "LoadBalancer", balancer});
    json unhealthy = json::array(
        {"AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", resources.target_group, "LoadBalancer", balancer});
    layout.add_metrics("Healthy hosts", json::array({healthy, unhealthy}), "Minimum");
  }
}

void add_database_widgets(Layout& layout, const std::string& database) {
  layout.add_metrics("RDS CPU (%)",
                     json::array({metric("AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", database)}));
  layout.add_metrics("RDS connections",
                     json::array({metric("AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", database)}));
  layout.add_metrics("RDS free storage (bytes)",
                     json::array({metric("AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", database)}), "Minimum");
}

aws::cloudwatch::Alarm make_alarm(const MonitoredResources& resources, const std::string& check,
                                  const std::string& description) {
  aws::cloudwatch::Alarm alarm;
  alarm.name = fmt::format("hivemind-{}-{}", resources.deployment_id, check);
  alarm.description = description;
  alarm.period_seconds = 300;
  alarm.evaluation_periods = 1;
  alarm.treat_missing_data = "notBreaching";
  return alarm;
}

}  // namespace

std::string dashboard_name(const std::string& deployment_id) { return "hivemind-" + deployment_id; }

std::string dashboard_url(const std::string& region, const std::string& name) {
  return fmt::format("https://{0}.console.aws.amazon.com/cloudwatch/home?region={0}#dashboards:name={1}", region, name);
}

std::string arn_dimension(const std::string& arn) {
  const std::string balancer_marker = ":loadbalancer/";
  size_t at = arn.find(balancer_marker);
  if (at != std::string::npos) return arn.substr(at + balancer_marker.size());
  at = arn.find(":targetgroup/");
  if (at != std::string::npos) return arn.substr(at + 1);
  return arn;
}

json dashboard_body(const MonitoredResources& resources) {
  Layout layout(resources.region);
  if (!resources.instance_id.empty()) add_instance_widgets(layout, resources.instance_id);
  if (!resources.load_balancer.empty()) add_load_balancer_widgets(layout, resources);
  if (!resources.db_instance_id.empty()) add_database_widgets(layout, resources.db_instance_id);
  if (!resources.log_group.empty()) layout.add_log("Recent errors", resources.log_group);
  return json{{"widgets", layout.widgets()}};
}

std::vector<aws::cloudwatch::Alarm> alarm_specs(const MonitoredResources& resources) {
  std::vector<aws::cloudwatch::Alarm> alarms;

  if (!resources.target_group.empty() && !resources.load_balancer.empty()) {
    auto alarm = make_alarm(resources, "unhealthy_targets", "A target of the load balancer fails its health check.");
    alarm.namespace_name = "AWS/ApplicationELB";
    alarm.metric_name = "UnHealthyHostCount";
    alarm.dimensions = {{"TargetGroup", resources.target_group}, {"LoadBalancer", resources.load_balancer}};
    alarm.statistic = "Maximum";
    alarm.period_seconds = 60;
    alarm.evaluation_periods = 2;
    alarm.threshold = 0;
    alarms.push_back(alarm);
  }
  if (!resources.load_balancer.empty()) {
    auto alarm = make_alarm(resources, "http_5xx", "The app answers more than 10 server errors in 5 minutes.");
    alarm.namespace_name = "AWS/ApplicationELB";
    alarm.metric_name = "HTTPCode_Target_5XX_Count";
    alarm.dimensions = {{"LoadBalancer", resources.load_balancer}};
    alarm.statistic = "Sum";
    alarm.threshold = 10;
    alarms.push_back(alarm);
  }
  if (!resources.instance_id.empty()) {
    auto alarm = make_alarm(resources, "high_cpu", "The instance's CPU stays above 80% for 10 minutes.");
    alarm.namespace_name = "AWS/EC2";
    alarm.metric_name = "CPUUtilization";
    alarm.dimensions = {{"InstanceId", resources.instance_id}};
    alarm.evaluation_periods = 2;
    alarm.threshold = 80;
    alarms.push_back(alarm);
  }
  if (!resources.db_instance_id.empty()) {
    auto alarm = make_alarm(resources, "low_db_storage", "The database has less than 2 GiB of free storage.");
    alarm.namespace_name = "AWS/RDS";
    alarm.metric_name = "FreeStorageSpace";
    alarm.dimensions = {{"DBInstanceIdentifier", resources.db_instance_id}};
    alarm.statistic = "Minimum";
    alarm.threshold = 2.0 * 1024 * 1024 * 1024;
    alarm.comparison_operator = "LessThanThreshold";
    alarms.push_back(alarm);
  }
  return alarms;
}

}  // namespace hivemind::monitor
