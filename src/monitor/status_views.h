#pragma once

// The data behind `hivemind status <id> --show-logs --show-metrics
// --show-costs --check`: library functions that read CloudWatch Logs,
// CloudWatch and Cost Explorer and return plain data; the CLI prints it.
// fetch_status_views() issues the three reads in parallel.
//
// Thread safety: each function may run on its own thread as long as the
// AwsClient is safe to share (it is: see aws/client.h).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "aws/elbv2.h"
#include "common/result.h"
#include "monitor/dashboard.h"
#include "monitor/error_groups.h"
#include "monitor/metrics_view.h"
#include "state/store.h"

namespace hivemind::monitor {

using TimePoint = std::chrono::system_clock::time_point;

struct LogsQuery {
  std::chrono::seconds since{3600};
  std::string filter;  // plain text that a line must contain; empty: every line
  int max_lines = 50;
  TimePoint now = std::chrono::system_clock::now();
};

struct LogsView {
  std::vector<LogLine> lines;      // the last max_lines lines, oldest first
  std::vector<ErrorGroup> groups;  // over every line in the window, not only the shown ones
};

// Reads the log group's events in the window.
Result<LogsView> fetch_logs(aws::AwsClient& client, const MonitoredResources& resources, const LogsQuery& query);

struct MetricsView {
  std::vector<MetricSummary> metrics;  // CPU, memory, disk, network, requests, errors
  // Latency percentiles in seconds. NOTE: these are percentiles of the
  // per-minute average TargetResponseTime, because moto computes no
  // percentile statistics; on AWS they understate the tail.
  std::optional<double> latency_p50;
  std::optional<double> latency_p90;
  std::optional<double> latency_p99;
};

Result<MetricsView> fetch_metrics(aws::AwsClient& client, const MonitoredResources& resources,
                                  std::chrono::seconds window, TimePoint now = std::chrono::system_clock::now());

struct CostLine {
  std::string label;  // "month to date" or "<logical name> (<kind>)"
  double usd = 0;
  bool actual = false;  // true: Cost Explorer; false: HiveMind's estimate
};

struct CostsView {
  std::optional<CostLine> month_to_date;  // empty when Cost Explorer has no period
  std::vector<CostLine> estimates;        // one per live resource with a cost
  double estimated_monthly_usd = 0;
};

// Month to date from Cost Explorer (tag hivemind:deployment=<id>) beside the
// estimated monthly run rate of each live resource in state. `today` is
// "YYYY-MM-DD" in UTC.
Result<CostsView> fetch_costs(aws::AwsClient& client, const state::Store& store, const std::string& deployment_id,
                              const std::string& today);

struct StatusViews {
  std::optional<Result<LogsView>> logs;
  std::optional<Result<MetricsView>> metrics;
  std::optional<Result<CostsView>> costs;
};

struct StatusRequest {
  bool logs = true;
  bool metrics = true;
  bool costs = true;
  LogsQuery logs_query;
  std::chrono::seconds metrics_window{3600};
};

// Runs the requested reads at the same time and waits for all of them.
StatusViews fetch_status_views(aws::AwsClient& client, const state::Store& store, const MonitoredResources& resources,
                               const StatusRequest& request);

struct CheckResult {
  bool ok = true;
  std::vector<std::string> problems;        // one sentence each
  std::vector<ErrorGroup> critical_groups;  // every critical group of the window, new or not
};

// Decides whether a critical error group is new, i.e. a problem for --check.
using IsNewGroup = std::function<bool(const ErrorGroup&)>;

// Fails on critical error groups (see is_critical) last seen after `since`,
// and on alarms of the deployment in state ALARM.
// With `is_new`, that predicate decides which critical groups are new in
// place of the comparison with `since`.
CheckResult check_health(const LogsView& logs, const std::vector<aws::cloudwatch::Alarm>& alarms, TimePoint since,
                         const IsNewGroup& is_new = {});

// Returns one problem sentence per registered target whose state is not
// "healthy", "initial" or "draining".
std::vector<std::string> target_health_problems(const std::vector<aws::elbv2::TargetHealth>& targets);

// Reads the deployment's alarms ("hivemind-<id>-" prefix), the target
// group's target health and the logs of the window at the same time, then
// applies check_health() and target_health_problems().
Result<CheckResult> run_check(aws::AwsClient& client, const MonitoredResources& resources, const LogsQuery& query,
                              const IsNewGroup& is_new = {});

}  // namespace hivemind::monitor
