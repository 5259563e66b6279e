#include "monitor/status_text.h"

#include <fmt/format.h>

#include <ctime>

namespace hivemind::monitor {
namespace {

std::string utc_time(std::int64_t timestamp_ms) {
  std::time_t seconds = static_cast<std::time_t>(timestamp_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[24];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

std::string optional_seconds(const std::optional<double>& value) {
  return value ? fmt::format("{:.3f} s", *value) : "no data";
}

}  // namespace

std::string render_log_line(const LogLine& line, const Highlight& highlight) {
  std::string text = fmt::format("{}  {}", utc_time(line.timestamp_ms), line.message);
  if (highlight && is_error_line(line.message)) text = highlight(text);
  return text + "\n";
}

std::string render_logs(const LogsView& view, const Highlight& highlight) {
  std::string out;
  if (view.groups.empty()) out += "No errors in the window.\n";
  for (const ErrorGroup& group : view.groups) {
    std::string text = fmt::format("{:<13} x{:<4} first {}  last {}  {}", to_string(group.kind), group.count,
                                   utc_time(group.first_seen_ms), utc_time(group.last_seen_ms), group.signature);
    out += (highlight ? highlight(text) : text) + "\n";
  }
  out += "\n";
  for (const LogLine& line : view.lines) out += render_log_line(line, highlight);
  return out;
}

std::string render_metrics(const MetricsView& view) {
  std::string out;
  for (const MetricSummary& summary : view.metrics) out += format_summary(summary) + "\n";
  out += fmt::format("Latency p50 {}, p90 {}, p99 {} (of per-minute averages)\n", optional_seconds(view.latency_p50),
                     optional_seconds(view.latency_p90), optional_seconds(view.latency_p99));
  return out;
}

std::string render_costs(const CostsView& view) {
  std::string out;
  if (view.month_to_date) {
    out +=
        fmt::format("{:<40} ${:>9.2f}  (actual, Cost Explorer)\n", view.month_to_date->label, view.month_to_date->usd);
  } else {
    out += "month to date: no Cost Explorer data yet (its data can lag by up to a day)\n";
  }
  for (const CostLine& line : view.estimates) {
    out += fmt::format("{:<40} ${:>9.2f}  (estimate, per month)\n", line.label, line.usd);
  }
  out += fmt::format("{:<40} ${:>9.2f}  (estimate, per month)\n", "run rate", view.estimated_monthly_usd);
  return out;
}

}  // namespace hivemind::monitor
