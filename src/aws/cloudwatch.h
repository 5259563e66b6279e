#pragma once

// Typed CloudWatch calls: publishing and reading metrics, dashboards and
// metric alarms (tagged at creation). Reads follow NextToken to the last
// page.

#include <chrono>
#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"

namespace hivemind::aws::cloudwatch {

using TimePoint = std::chrono::system_clock::time_point;

struct Dimension {
  std::string name;
  std::string value;
};

struct MetricDatum {
  std::string name;
  double value = 0;
  std::string unit = "None";  // "Percent", "Bytes", "Count", "Seconds", ...
  TimePoint timestamp{};      // epoch: the time AWS receives it
  std::vector<Dimension> dimensions;
};

// One series requested from GetMetricData: a statistic of one metric over
// periods of `period_seconds`.
struct MetricQuery {
  std::string id;  // lower-case start, letters, digits and '_': "cpu", "m1"
  std::string namespace_name;
  std::string metric_name;
  std::vector<Dimension> dimensions;
  int period_seconds = 60;
  std::string statistic = "Average";  // "Average", "Sum", "Maximum", "Minimum", "SampleCount", "p99"
};

struct MetricSeries {
  std::string id;
  std::string label;
  std::string status;                   // "Complete" or "PartialData"
  std::vector<std::string> timestamps;  // ISO 8601, newest first as AWS returns them
  std::vector<double> values;
};

struct DashboardEntry {
  std::string name;
  std::string arn;
  std::string last_modified;
  long long size_bytes = 0;
};

struct Dashboard {
  std::string name;
  std::string arn;
  std::string body;  // the dashboard's JSON text
};

struct Alarm {
  std::string name;
  std::string arn;
  std::string description;
  std::string namespace_name;
  std::string metric_name;
  std::vector<Dimension> dimensions;
  std::string statistic = "Average";
  int period_seconds = 300;
  int evaluation_periods = 1;
  double threshold = 0;
  std::string comparison_operator = "GreaterThanThreshold";
  std::string treat_missing_data = "missing";
  std::vector<std::string> alarm_actions;  // e.g. SNS topic ARNs
  std::string state;                       // read only: "OK", "ALARM", "INSUFFICIENT_DATA"
};

// Formats a time as CloudWatch's ISO 8601 UTC, e.g. "2026-12-04T19:52:14Z".
std::string format_time(TimePoint time);

// Publishes data points, in batches of at most 1000 per call (the API's
// limit on MetricData members).
AwsResult<Unit> put_metric_data(AwsClient& client, const std::string& namespace_name,
                                const std::vector<MetricDatum>& data);
// Returns one series per query id, with the points of every page joined.
AwsResult<std::vector<MetricSeries>> get_metric_data(AwsClient& client, const std::vector<MetricQuery>& queries,
                                                     TimePoint start, TimePoint end);

// Dashboards. put_dashboard returns AWS's validation messages (empty when
// the body is valid).
AwsResult<std::vector<std::string>> put_dashboard(AwsClient& client, const std::string& name, const std::string& body);
AwsResult<Dashboard> get_dashboard(AwsClient& client, const std::string& name);
AwsResult<std::vector<DashboardEntry>> list_dashboards(AwsClient& client, const std::string& name_prefix = {});
AwsResult<Unit> delete_dashboards(AwsClient& client, const std::vector<std::string>& names);

// Metric alarms
AwsResult<Unit> put_metric_alarm(AwsClient& client, const Alarm& alarm, const Tags& tags);
// Lists the named alarms, those whose name starts with `name_prefix`, or
// every alarm when both are empty.
AwsResult<std::vector<Alarm>> describe_alarms(AwsClient& client, const std::vector<std::string>& names,
                                              const std::string& name_prefix = {});
AwsResult<Unit> delete_alarms(AwsClient& client, const std::vector<std::string>& names);

}  // namespace hivemind::aws::cloudwatch
