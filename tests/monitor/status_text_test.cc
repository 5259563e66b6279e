#include "monitor/status_text.h"

#include <gtest/gtest.h>

namespace hivemind::monitor {
namespace {

constexpr std::int64_t kNoon = 1796385600000;  // 2026-12-04 12:00:00 UTC

TEST(StatusText, LogsShowGroupsThenLines) {
  LogsView view;
  view.lines = {{kNoon, "INFO up"}, {kNoon + 61000, "FATAL down"}};
  view.groups = group_errors(view.lines);
  EXPECT_EQ(render_logs(view),
            "fatal         x1    first 2026-12-04 12:01:01  last 2026-12-04 12:01:01  FATAL down\n"
            "\n"
            "2026-12-04 12:00:00  INFO up\n"
            "2026-12-04 12:01:01  FATAL down\n");
}

TEST(StatusText, HighlightWrapsErrorLinesOnly) {
  LogsView view;
  view.lines = {{kNoon, "INFO up"}, {kNoon + 1000, "ERROR db down"}, {kNoon + 2000, "    at Pool.connect (db.js:4)"}};
  view.groups = group_errors(view.lines);
  auto mark = [](const std::string& text) { return "<" + text + ">"; };

  EXPECT_EQ(render_logs(view, mark),
            "<stack trace   x1    first 2026-12-04 12:00:01  last 2026-12-04 12:00:01  ERROR db down>\n"
            "\n"
            "2026-12-04 12:00:00  INFO up\n"
            "<2026-12-04 12:00:01  ERROR db down>\n"
            "<2026-12-04 12:00:02      at Pool.connect (db.js:4)>\n");
}

TEST(StatusText, ErrorLineKinds) {
  EXPECT_TRUE(is_error_line("FATAL disk full"));
  EXPECT_TRUE(is_error_line("Traceback (most recent call last):"));
  EXPECT_TRUE(is_error_line("  File \"app.py\", line 3, in <module>"));
  EXPECT_TRUE(is_error_line("10.0.0.1 - - \"GET /cart HTTP/1.1\" 502 12"));
  EXPECT_FALSE(is_error_line("GET /health 200"));
  EXPECT_FALSE(is_error_line("errors: 0"));
}

TEST(StatusText, QuietLogsSayNoErrors) { EXPECT_EQ(render_logs(LogsView{}), "No errors in the window.\n\n"); }

TEST(StatusText, MetricsShowLatency) {
  MetricsView view;
  view.metrics = {summarize("CPU", "%", {})};
  view.latency_p50 = 0.12;
  EXPECT_EQ(render_metrics(view),
            "CPU              no data\n"
            "Latency p50 0.120 s, p90 no data, p99 no data (of per-minute averages)\n");
}

TEST(StatusText, CostsAreLabelled) {
  CostsView view;
  view.month_to_date = CostLine{"month to date", 3.21, true};
  view.estimates = {{"instance (ec2:instance)", 15.18, false}};
  view.estimated_monthly_usd = 15.18;
  EXPECT_EQ(render_costs(view),
            "month to date                            $     3.21  (actual, Cost Explorer)\n"
            "instance (ec2:instance)                  $    15.18  (estimate, per month)\n"
            "run rate                                 $    15.18  (estimate, per month)\n");
}

}  // namespace
}  // namespace hivemind::monitor
