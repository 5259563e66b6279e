#include "monitor/metrics_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace hivemind::monitor {

std::string sparkline(const std::vector<double>& values) {
  static constexpr std::array<const char*, 8> kBars = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty()) return "";
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  double range = *high - *low;
  std::string line;
  for (double value : values) {
    size_t level = 0;
    if (range > 0) level = static_cast<size_t>(std::lround((value - *low) / range * (kBars.size() - 1)));
    line += kBars[std::min(level, kBars.size() - 1)];
  }
  return line;
}

std::optional<double> percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

MetricSummary summarize(std::string name, std::string unit, std::vector<double> values) {
  MetricSummary summary;
  summary.name = std::move(name);
  summary.unit = std::move(unit);
  if (!values.empty()) {
    summary.latest = values.back();
    summary.minimum = *std::min_element(values.begin(), values.end());
    summary.maximum = *std::max_element(values.begin(), values.end());
    summary.average = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  }
  summary.values = std::move(values);
  return summary;
}

std::string format_summary(const MetricSummary& summary) {
  if (!summary.latest) return fmt::format("{:<16} no data", summary.name);
  return fmt::format("{:<16} {:>10.2f} {:<8} min {:.2f} max {:.2f} avg {:.2f}  {}", summary.name, *summary.latest,
                     summary.unit, *summary.minimum, *summary.maximum, *summary.average, sparkline(summary.values));
}

}  // namespace hivemind::monitor
