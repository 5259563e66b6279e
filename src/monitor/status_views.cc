#include "monitor/status_views.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <future>

#include "aws/cost_explorer.h"
#include "aws/logs.h"
#include "common/log.h"

namespace hivemind::monitor {
namespace {

std::int64_t to_ms(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

Error read_failed(const aws::AwsError& error, const std::string& what) {
  Error converted = error.to_error();
  converted.message = fmt::format("Reading {} failed: {}", what, converted.message);
  return converted;
}

// CloudWatch returns the newest point first; the views show the oldest first.
std::vector<double> oldest_first(const aws::cloudwatch::MetricSeries& series) {
  return std::vector<double>(series.values.rbegin(), series.values.rend());
}

struct Wanted {
  std::string label;
  std::string unit;
  aws::cloudwatch::MetricQuery query;
};

std::vector<Wanted> wanted_metrics(const MonitoredResources& resources) {
  std::vector<Wanted> wanted;
  if (!resources.instance_id.empty()) {
    std::vector<aws::cloudwatch::Dimension> instance{{"InstanceId", resources.instance_id}};
    wanted.push_back({"CPU", "%", {"cpu", "AWS/EC2", "CPUUtilization", instance, 60, "Average"}});
    wanted.push_back({"Memory", "%", {"memory", kAgentNamespace, "mem_used_percent", instance, 60, "Average"}});
    wanted.push_back({"Disk", "%", {"disk", kAgentNamespace, "disk_used_percent", instance, 60, "Average"}});
    wanted.push_back({"Network in", "bytes", {"network_in", "AWS/EC2", "NetworkIn", instance, 60, "Sum"}});
    wanted.push_back({"Network out", "bytes", {"network_out", "AWS/EC2", "NetworkOut", instance, 60, "Sum"}});
  }
  if (!resources.load_balancer.empty()) {
    std::vector<aws::cloudwatch::Dimension> balancer{{"LoadBalancer", resources.load_balancer}};
    wanted.push_back({"Requests", "requests", {"requests", "AWS/ApplicationELB", "RequestCount", balancer, 60, "Sum"}});
    wanted.push_back({"Errors (5xx)",
                      "responses",
                      {"errors", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", balancer, 60, "Sum"}});
    wanted.push_back(
        {"Latency", "s", {"latency", "AWS/ApplicationELB", "TargetResponseTime", balancer, 60, "Average"}});
  }
  return wanted;
}

// "YYYY-MM-DD" of the day after `day`, or nothing for an invalid date.
std::optional<std::string> next_day(const std::string& day) {
  int year = 0;
  unsigned month = 0;
  unsigned date = 0;
  if (std::sscanf(day.c_str(), "%d-%u-%u", &year, &month, &date) != 3) return std::nullopt;
  std::chrono::year_month_day parsed{std::chrono::year(year), std::chrono::month(month), std::chrono::day(date)};
  if (!parsed.ok()) return std::nullopt;
  std::chrono::year_month_day next{std::chrono::sys_days(parsed) + std::chrono::days(1)};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(next.year()), static_cast<unsigned>(next.month()),
                     static_cast<unsigned>(next.day()));
}

std::vector<CostLine> estimated_lines(const std::vector<state::Resource>& resources, double& total) {
  std::vector<CostLine> lines;
  for (const state::Resource& resource : resources) {
    if (resource.status != state::ResourceStatus::created || resource.estimated_monthly_cost_usd <= 0) continue;
    lines.push_back(
        {fmt::format("{} ({})", resource.logical_name, resource.kind), resource.estimated_monthly_cost_usd, false});
    total += resource.estimated_monthly_cost_usd;
  }
  return lines;
}

}  // namespace

Result<LogsView> fetch_logs(aws::AwsClient& client, const MonitoredResources& resources, const LogsQuery& query) {
  if (resources.log_group.empty()) {
    return fail(make_error("monitor.no_log_group",
                           fmt::format("Deployment {} has no log group in state.", resources.deployment_id),
                           "Run `hivemind retry " + resources.deployment_id + "` to finish provisioning."));
  }
  aws::logs::FilterRequest request;
  request.group_name = resources.log_group;
  request.start_ms = to_ms(query.now - query.since);
  request.end_ms = to_ms(query.now);
  auto events = aws::logs::filter_log_events(client, request);
  if (!events) return fail(read_failed(events.error(), "log group " + resources.log_group));

  std::stable_sort(events->begin(), events->end(),
                   [](const auto& a, const auto& b) { return a.timestamp_ms < b.timestamp_ms; });
  LogsView view;
  std::vector<LogLine> all;
  for (const aws::logs::LogEvent& event : *events) {
    // Plain-text matching in the client, so that text with characters that
    // filter patterns treat specially still matches literally.
    if (!query.filter.empty() && event.message.find(query.filter) == std::string::npos) continue;
    all.push_back({event.timestamp_ms, event.message});
  }
  view.groups = group_errors(all);
  size_t shown = std::min(all.size(), static_cast<size_t>(std::max(query.max_lines, 0)));
  view.lines.assign(all.end() - static_cast<std::ptrdiff_t>(shown), all.end());
  return view;
}

Result<MetricsView> fetch_metrics(aws::AwsClient& client, const MonitoredResources& resources,
                                  std::chrono::seconds window, TimePoint now) {
  std::vector<Wanted> wanted = wanted_metrics(resources);
  std::vector<aws::cloudwatch::MetricQuery> queries;
  for (const Wanted& item : wanted) queries.push_back(item.query);

  MetricsView view;
  if (queries.empty()) return view;
  auto series = aws::cloudwatch::get_metric_data(client, queries, now - window, now);
  if (!series) return fail(read_failed(series.error(), "metrics of " + resources.deployment_id));

  for (const Wanted& item : wanted) {
    std::vector<double> values;
    for (const auto& found : *series) {
      if (found.id == item.query.id) values = oldest_first(found);
    }
    if (item.query.id == "latency") {
      view.latency_p50 = percentile(values, 50);
      view.latency_p90 = percentile(values, 90);
      view.latency_p99 = percentile(values, 99);
    }
    view.metrics.push_back(summarize(item.label, item.unit, std::move(values)));
  }
  return view;
}

Result<CostsView> fetch_costs(aws::AwsClient& client, const state::Store& store, const std::string& deployment_id,
                              const std::string& today) {
  std::optional<std::string> end = next_day(today);
  if (!end) return fail(make_error("monitor.invalid_date", "Invalid date " + today + "; expected YYYY-MM-DD."));

  CostsView view;
  Result<std::vector<state::Resource>> resources = store.resources(deployment_id);
  if (!resources) return fail(resources.error());
  view.estimates = estimated_lines(*resources, view.estimated_monthly_usd);

  aws::cost_explorer::CostRequest request;
  request.start = today.substr(0, 8) + "01";
  request.end = *end;
  request.granularity = "MONTHLY";
  request.tag_key = "hivemind:deployment";
  request.tag_values = {deployment_id};
  auto periods = aws::cost_explorer::get_cost_and_usage(client, request);
  if (!periods) return fail(read_failed(periods.error(), "Cost Explorer costs of " + deployment_id));
  if (!periods->empty()) {
    CostLine line{"month to date", 0, true};
    for (const auto& period : *periods) {
      for (const auto& total : period.totals) {
        if (total.metric == "UnblendedCost") line.usd += total.amount;
      }
    }
    view.month_to_date = line;
  }
  return view;
}

StatusViews fetch_status_views(aws::AwsClient& client, const state::Store& store, const MonitoredResources& resources,
                               const StatusRequest& request) {
  std::future<Result<LogsView>> logs;
  std::future<Result<MetricsView>> metrics;
  std::future<Result<CostsView>> costs;
  if (request.logs) {
    logs = std::async(std::launch::async, [&] { return fetch_logs(client, resources, request.logs_query); });
  }
  if (request.metrics) {
    metrics = std::async(std::launch::async, [&] {
      return fetch_metrics(client, resources, request.metrics_window, request.logs_query.now);
    });
  }
  if (request.costs) {
    std::time_t now = std::chrono::system_clock::to_time_t(request.logs_query.now);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::string today = fmt::format("{:04d}-{:02d}-{:02d}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
    costs = std::async(std::launch::async,
                       [&, today] { return fetch_costs(client, store, resources.deployment_id, today); });
  }

  StatusViews views;
  if (logs.valid()) views.logs = logs.get();
  if (metrics.valid()) views.metrics = metrics.get();
  if (costs.valid()) views.costs = costs.get();
  return views;
}

CheckResult check_health(const LogsView& logs, const std::vector<aws::cloudwatch::Alarm>& alarms, TimePoint since,
                         const IsNewGroup& is_new) {
  CheckResult result;
  std::int64_t since_ms = to_ms(since);
  for (const ErrorGroup& group : logs.groups) {
    if (!is_critical(group.kind)) continue;
    result.critical_groups.push_back(group);
    bool fresh = is_new ? is_new(group) : group.last_seen_ms >= since_ms;
    if (!fresh) continue;
    result.problems.push_back(
        fmt::format("{} error seen {} times: {}", to_string(group.kind), group.count, group.signature));
  }
  for (const aws::cloudwatch::Alarm& alarm : alarms) {
    if (alarm.state != "ALARM") continue;
    result.problems.push_back(fmt::format("alarm {} is in state ALARM: {}", alarm.name, alarm.description));
  }
  result.ok = result.problems.empty();
  return result;
}

std::vector<std::string> target_health_problems(const std::vector<aws::elbv2::TargetHealth>& targets) {
  std::vector<std::string> problems;
  for (const aws::elbv2::TargetHealth& target : targets) {
    if (target.state == "healthy" || target.state == "initial" || target.state == "draining") continue;
    std::string why = target.description.empty() ? target.reason : target.description;
    problems.push_back(fmt::format("target {} is {}{}", target.target_id, target.state, why.empty() ? "" : ": " + why));
  }
  return problems;
}

Result<CheckResult> run_check(aws::AwsClient& client, const MonitoredResources& resources, const LogsQuery& query,
                              const IsNewGroup& is_new) {
  auto alarms = std::async(std::launch::async, [&] {
    return aws::cloudwatch::describe_alarms(client, {}, dashboard_name(resources.deployment_id) + "-");
  });
  auto targets = std::async(std::launch::async, [&]() -> aws::AwsResult<std::vector<aws::elbv2::TargetHealth>> {
    if (resources.target_group_arn.empty()) return std::vector<aws::elbv2::TargetHealth>{};
    return aws::elbv2::describe_target_health(client, resources.target_group_arn);
  });
  Result<LogsView> logs = fetch_logs(client, resources, query);
  auto listed = alarms.get();
  auto health = targets.get();
  if (!logs) return fail(logs.error());
  if (!listed) return fail(read_failed(listed.error(), "alarms of " + resources.deployment_id));
  if (!health) return fail(read_failed(health.error(), "target health of " + resources.target_group_arn));

  CheckResult result = check_health(*logs, *listed, query.now - query.since, is_new);
  for (std::string& problem : target_health_problems(*health)) result.problems.push_back(std::move(problem));
  result.ok = result.problems.empty();
  return result;
}

}  // namespace hivemind::monitor
