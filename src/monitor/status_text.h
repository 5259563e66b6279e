#pragma once

// Plain-text rendering of the status views, for the CLI to print as is (or
// to colour). Pure functions, tested as exact text.

#include <functional>
#include <string>

#include "monitor/status_views.h"

namespace hivemind::monitor {

// Wraps a line of text that reads as an error, e.g. in a terminal color.
using Highlight = std::function<std::string(const std::string&)>;

// Error groups first (kind, count, first and last seen, signature), then the
// lines, each prefixed with its UTC time. With `highlight`, every group line
// and every line that is_error_line() accepts goes through it.
std::string render_logs(const LogsView& view, const Highlight& highlight = {});

// One log line as render_logs() prints it: "YYYY-MM-DD HH:MM:SS  message".
std::string render_log_line(const LogLine& line, const Highlight& highlight = {});

// One format_summary() line per metric, then the latency percentiles.
std::string render_metrics(const MetricsView& view);

// The actual month to date, then each estimate, each labelled.
std::string render_costs(const CostsView& view);

}  // namespace hivemind::monitor
