#include "aws/cloudwatch.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace hivemind::aws::cloudwatch {
namespace {

using calls::append_list;
using calls::int_value;
using calls::text;

constexpr std::size_t kMaxDataPerCall = 1000;

AwsResult<XmlResponse> send(AwsClient& client, std::string_view action, const QueryParams& params) {
  return client.query(monitoring_service(), action, params);
}

void append_dimensions(QueryParams& params, const std::string& prefix, const std::vector<Dimension>& dimensions) {
  for (std::size_t i = 0; i < dimensions.size(); ++i) {
    std::string member = prefix + ".member." + std::to_string(i + 1);
    params.emplace_back(member + ".Name", dimensions[i].name);
    params.emplace_back(member + ".Value", dimensions[i].value);
  }
}

std::vector<Dimension> parse_dimensions(pugi::xml_node list) {
  std::vector<Dimension> dimensions;
  for (pugi::xml_node member : list.children("member")) {
    dimensions.push_back(Dimension{text(member, "Name"), text(member, "Value")});
  }
  return dimensions;
}

std::string format_number(double value) { return fmt::format("{}", value); }

void append_datum(QueryParams& params, const std::string& prefix, const MetricDatum& datum) {
  params.emplace_back(prefix + ".MetricName", datum.name);
  params.emplace_back(prefix + ".Value", format_number(datum.value));
  params.emplace_back(prefix + ".Unit", datum.unit);
  if (datum.timestamp != TimePoint{}) params.emplace_back(prefix + ".Timestamp", format_time(datum.timestamp));
  append_dimensions(params, prefix + ".Dimensions", datum.dimensions);
}

void append_query(QueryParams& params, const std::string& prefix, const MetricQuery& query) {
  params.emplace_back(prefix + ".Id", query.id);
  params.emplace_back(prefix + ".MetricStat.Metric.Namespace", query.namespace_name);
  params.emplace_back(prefix + ".MetricStat.Metric.MetricName", query.metric_name);
  append_dimensions(params, prefix + ".MetricStat.Metric.Dimensions", query.dimensions);
  params.emplace_back(prefix + ".MetricStat.Period", std::to_string(query.period_seconds));
  params.emplace_back(prefix + ".MetricStat.Stat", query.statistic);
  params.emplace_back(prefix + ".ReturnData", "true");
}

Alarm parse_alarm(pugi::xml_node node) {
  Alarm alarm;
  alarm.name = text(node, "AlarmName");
  alarm.arn = text(node, "AlarmArn");
  alarm.description = text(node, "AlarmDescription");
  alarm.namespace_name = text(node, "Namespace");
  alarm.metric_name = text(node, "MetricName");
  alarm.dimensions = parse_dimensions(node.child("Dimensions"));
  alarm.statistic = text(node, "Statistic");
  alarm.period_seconds = int_value(node, "Period");
  alarm.evaluation_periods = int_value(node, "EvaluationPeriods");
  alarm.threshold = node.child("Threshold").text().as_double();
  alarm.comparison_operator = text(node, "ComparisonOperator");
  alarm.treat_missing_data = text(node, "TreatMissingData");
  alarm.alarm_actions = calls::string_list(node.child("AlarmActions"));
  alarm.state = text(node, "StateValue");
  return alarm;
}

}  // namespace

std::string format_time(TimePoint time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(time));
}

AwsResult<Unit> put_metric_data(AwsClient& client, const std::string& namespace_name,
                                const std::vector<MetricDatum>& data) {
  for (std::size_t first = 0; first < data.size(); first += kMaxDataPerCall) {
    QueryParams params{{"Namespace", namespace_name}};
    std::size_t last = std::min(data.size(), first + kMaxDataPerCall);
    for (std::size_t i = first; i < last; ++i) {
      append_datum(params, "MetricData.member." + std::to_string(i - first + 1), data[i]);
    }
    AwsResult<Unit> sent = calls::query_status(client, monitoring_service(), "PutMetricData", params);
    if (!sent.ok()) return sent;
  }
  return ok_unit();
}

AwsResult<std::vector<MetricSeries>> get_metric_data(AwsClient& client, const std::vector<MetricQuery>& queries,
                                                     TimePoint start, TimePoint end) {
  QueryParams params{{"StartTime", format_time(start)}, {"EndTime", format_time(end)}};
  for (std::size_t i = 0; i < queries.size(); ++i) {
    append_query(params, "MetricDataQueries.member." + std::to_string(i + 1), queries[i]);
  }

  // Later pages continue the series of earlier ones, keyed by query id.
  std::vector<MetricSeries> series;
  std::map<std::string, std::size_t> index_of;
  AwsResult<Unit> paged = calls::query_pages(
      client, monitoring_service(), "GetMetricData", std::move(params), "NextToken", "NextToken",
      [&](pugi::xml_node page) {
        for (pugi::xml_node member : page.child("MetricDataResults").children("member")) {
          std::string id = text(member, "Id");
          auto [found, inserted] = index_of.emplace(id, series.size());
          if (inserted) series.push_back(MetricSeries{id, text(member, "Label"), text(member, "StatusCode"), {}, {}});
          MetricSeries& target = series[found->second];
          target.status = text(member, "StatusCode");
          for (pugi::xml_node stamp : member.child("Timestamps").children("member")) {
            target.timestamps.emplace_back(stamp.text().as_string());
          }
          for (pugi::xml_node value : member.child("Values").children("member")) {
            target.values.push_back(value.text().as_double());
          }
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return series;
}

AwsResult<std::vector<std::string>> put_dashboard(AwsClient& client, const std::string& name, const std::string& body) {
  AwsResult<XmlResponse> response = send(client, "PutDashboard", {{"DashboardName", name}, {"DashboardBody", body}});
  if (!response.ok()) return fail(std::move(response).error());

  std::vector<std::string> messages;
  for (pugi::xml_node member : response->result.child("DashboardValidationMessages").children("member")) {
    messages.push_back(text(member, "DataPath") + ": " + text(member, "Message"));
  }
  return messages;
}

AwsResult<Dashboard> get_dashboard(AwsClient& client, const std::string& name) {
  AwsResult<XmlResponse> response = send(client, "GetDashboard", {{"DashboardName", name}});
  if (!response.ok()) return fail(std::move(response).error());
  const pugi::xml_node result = response->result;
  return Dashboard{text(result, "DashboardName"), text(result, "DashboardArn"), text(result, "DashboardBody")};
}

AwsResult<std::vector<DashboardEntry>> list_dashboards(AwsClient& client, const std::string& name_prefix) {
  QueryParams params;
  if (!name_prefix.empty()) params.emplace_back("DashboardNamePrefix", name_prefix);

  std::vector<DashboardEntry> entries;
  AwsResult<Unit> paged = calls::query_pages(
      client, monitoring_service(), "ListDashboards", std::move(params), "NextToken", "NextToken",
      [&](pugi::xml_node page) {
        for (pugi::xml_node member : page.child("DashboardEntries").children("member")) {
          entries.push_back(DashboardEntry{text(member, "DashboardName"), text(member, "DashboardArn"),
                                           text(member, "LastModified"), member.child("Size").text().as_llong()});
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return entries;
}

AwsResult<Unit> delete_dashboards(AwsClient& client, const std::vector<std::string>& names) {
  QueryParams params;
  append_list(params, "DashboardNames.member", names);
  return calls::query_status(client, monitoring_service(), "DeleteDashboards", params);
}

AwsResult<Unit> put_metric_alarm(AwsClient& client, const Alarm& alarm, const Tags& tags) {
  QueryParams params{{"AlarmName", alarm.name},
                     {"Namespace", alarm.namespace_name},
                     {"MetricName", alarm.metric_name},
                     {"Statistic", alarm.statistic},
                     {"Period", std::to_string(alarm.period_seconds)},
                     {"EvaluationPeriods", std::to_string(alarm.evaluation_periods)},
                     {"Threshold", format_number(alarm.threshold)},
                     {"ComparisonOperator", alarm.comparison_operator},
                     {"TreatMissingData", alarm.treat_missing_data}};
  if (!alarm.description.empty()) params.emplace_back("AlarmDescription", alarm.description);
  append_dimensions(params, "Dimensions", alarm.dimensions);
  append_list(params, "AlarmActions.member", alarm.alarm_actions);
  calls::append_member_tags(params, "Tags", tags);
  return calls::query_status(client, monitoring_service(), "PutMetricAlarm", params);
}

AwsResult<std::vector<Alarm>> describe_alarms(AwsClient& client, const std::vector<std::string>& names,
                                              const std::string& name_prefix) {
  QueryParams params;
  append_list(params, "AlarmNames.member", names);
  if (!name_prefix.empty()) params.emplace_back("AlarmNamePrefix", name_prefix);

  std::vector<Alarm> alarms;
  AwsResult<Unit> paged =
      calls::query_pages(client, monitoring_service(), "DescribeAlarms", std::move(params), "NextToken", "NextToken",
                         [&](pugi::xml_node page) {
                           for (pugi::xml_node member : page.child("MetricAlarms").children("member")) {
                             alarms.push_back(parse_alarm(member));
                           }
                         });
  if (!paged.ok()) return fail(std::move(paged).error());
  return alarms;
}

AwsResult<Unit> delete_alarms(AwsClient& client, const std::vector<std::string>& names) {
  QueryParams params;
  append_list(params, "AlarmNames.member", names);
  return calls::query_status(client, monitoring_service(), "DeleteAlarms", params);
}

}  // namespace hivemind::aws::cloudwatch
