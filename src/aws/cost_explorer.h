#pragma once

// Typed Cost Explorer call: costs over a time period, optionally only of
// resources that carry a tag. Follows NextPageToken to the last page.

#include <string>
#include <vector>

#include "aws/client.h"

namespace hivemind::aws::cost_explorer {

struct CostRequest {
  std::string start;                  // first day, "YYYY-MM-DD"
  std::string end;                    // day after the last one, "YYYY-MM-DD" (exclusive)
  std::string granularity = "DAILY";  // "DAILY", "MONTHLY" or "HOURLY"
  std::vector<std::string> metrics{"UnblendedCost"};
  // With a non-empty key, only costs of resources whose tag `tag_key` has one
  // of `tag_values` count. The tag must be activated as a cost allocation tag.
  std::string tag_key;
  std::vector<std::string> tag_values;
};

struct MetricAmount {
  std::string metric;  // "UnblendedCost", ...
  double amount = 0;
  std::string unit;  // "USD"
};

struct CostPeriod {
  std::string start;
  std::string end;
  bool estimated = false;
  std::vector<MetricAmount> totals;
};

AwsResult<std::vector<CostPeriod>> get_cost_and_usage(AwsClient& client, const CostRequest& request);

}  // namespace hivemind::aws::cost_explorer
