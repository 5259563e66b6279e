#pragma once

// Numbers and terminal sparklines for `hivemind status --show-metrics`:
// pure functions over series that status_views.h reads from CloudWatch.

#include <optional>
#include <string>
#include <vector>

namespace hivemind::monitor {

// One bar character per value, scaled between the series' minimum and
// maximum, from U+2581 (lowest) to U+2588 (highest). A flat series gives
// the lowest bar throughout; an empty one gives "".
std::string sparkline(const std::vector<double>& values);

// The p-th percentile (0 to 100) by the nearest-rank method, or nothing for
// an empty series.
std::optional<double> percentile(std::vector<double> values, double p);

struct MetricSummary {
  std::string name;            // e.g. "CPU"
  std::string unit;            // e.g. "%", "bytes", "requests", "s"
  std::vector<double> values;  // oldest first
  std::optional<double> latest;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<double> average;
};

MetricSummary summarize(std::string name, std::string unit, std::vector<double> values);

// One line: "CPU          12.5 %   min 3.0 max 40.0 avg 12.1  ▁▂▅█▃", or
// "no data" in place of the numbers.
std::string format_summary(const MetricSummary& summary);

}  // namespace hivemind::monitor
