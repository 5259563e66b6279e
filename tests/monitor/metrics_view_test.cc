#include "monitor/metrics_view.h"

#include <gtest/gtest.h>

namespace hivemind::monitor {
namespace {

TEST(Sparkline, ScalesBetweenMinimumAndMaximum) {
  EXPECT_EQ(sparkline({0, 1, 2, 3, 4, 5, 6, 7}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(sparkline({10, 80, 10}), "▁█▁");
}

TEST(Sparkline, FlatAndEmptySeries) {
  EXPECT_EQ(sparkline({5, 5, 5}), "▁▁▁");
  EXPECT_EQ(sparkline({}), "");
}

TEST(Percentile, UsesNearestRank) {
  std::vector<double> values{15, 20, 35, 40, 50};
  EXPECT_DOUBLE_EQ(*percentile(values, 30), 20);
  EXPECT_DOUBLE_EQ(*percentile(values, 50), 35);
  EXPECT_DOUBLE_EQ(*percentile(values, 100), 50);
  EXPECT_DOUBLE_EQ(*percentile(values, 0), 15);
  EXPECT_FALSE(percentile({}, 50).has_value());
}

TEST(MetricSummary, FormatsNumbersAndSparkline) {
  MetricSummary summary = summarize("CPU", "%", {10, 30, 20});
  EXPECT_DOUBLE_EQ(*summary.latest, 20);
  EXPECT_DOUBLE_EQ(*summary.average, 20);
  EXPECT_EQ(format_summary(summary), "CPU                   20.00 %        min 10.00 max 30.00 avg 20.00  ▁█▅");
  EXPECT_EQ(format_summary(summarize("Memory", "%", {})), "Memory           no data");
}

}  // namespace
}  // namespace hivemind::monitor
