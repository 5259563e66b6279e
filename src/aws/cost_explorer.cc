#include "aws/cost_explorer.h"

#include <string>
#include <utility>

#include "aws/call_support.h"

namespace hivemind::aws::cost_explorer {
namespace {

using nlohmann::json;

// Amounts arrive as decimal strings ("12.3456789").
double parse_amount(const json& metric) {
  std::string amount = calls::json_string(metric, "Amount");
  if (amount.empty()) return 0;
  try {
    return std::stod(amount);
  } catch (const std::exception&) {
    return 0;
  }
}

CostPeriod parse_period(const json& item) {
  CostPeriod period;
  const json time_period = item.value("TimePeriod", json::object());
  period.start = calls::json_string(time_period, "Start");
  period.end = calls::json_string(time_period, "End");
  period.estimated = item.value("Estimated", false);
  const json totals = item.value("Total", json::object());
  for (const auto& [metric, value] : totals.items()) {
    period.totals.push_back(MetricAmount{metric, parse_amount(value), calls::json_string(value, "Unit")});
  }
  return period;
}

}  // namespace

AwsResult<std::vector<CostPeriod>> get_cost_and_usage(AwsClient& client, const CostRequest& request) {
  json body{{"TimePeriod", {{"Start", request.start}, {"End", request.end}}},
            {"Granularity", request.granularity},
            {"Metrics", request.metrics}};
  if (!request.tag_key.empty()) {
    body["Filter"] = {{"Tags", {{"Key", request.tag_key}, {"Values", request.tag_values}}}};
  }

  std::vector<CostPeriod> periods;
  AwsResult<Unit> paged = calls::json_pages(client, cost_explorer_service(), "GetCostAndUsage", std::move(body),
                                            "NextPageToken", [&](const json& page) {
                                              for (const json& item : page.value("ResultsByTime", json::array())) {
                                                periods.push_back(parse_period(item));
                                              }
                                            });
  if (!paged.ok()) return fail(std::move(paged).error());
  return periods;
}

}  // namespace hivemind::aws::cost_explorer
