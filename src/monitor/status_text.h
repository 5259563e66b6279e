#pragma once

// Plain-text rendering of the status views, for the CLI to print as is (or
// to colour). Pure functions, tested as exact text.

#include <string>

#include "monitor/status_views.h"

namespace hivemind::monitor {

// Error groups first (kind, count, first and last seen, signature), then the
// lines, each prefixed with its UTC time.
std::string render_logs(const LogsView& view);

// One format_summary() line per metric, then the latency percentiles.
std::string render_metrics(const MetricsView& view);

// The actual month to date, then each estimate, each labelled.
std::string render_costs(const CostsView& view);

}  // namespace hivemind::monitor
