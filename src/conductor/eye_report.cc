#include "conductor/eye_report.h"

#include "monitor/setup.h"
#include "monitor/status_text.h"
#include "monitor/status_views.h"

namespace hivemind::conductor {
namespace {

constexpr int kReportLogLines = 10;

template <typename View>
report::LiveSection section(std::string title, const std::optional<Result<View>>& view,
                            std::string (*render)(const View&)) {
  if (!view) return {std::move(title), "(not read)\n"};
  if (!*view) return {std::move(title), "Could not be read: " + view->error().describe() + "\n"};
  return {std::move(title), render(**view)};
}

std::string render_logs_plain(const monitor::LogsView& view) { return monitor::render_logs(view); }

}  // namespace

std::vector<report::LiveSection> eye_report_sections(aws::AwsClient& client, const state::Store& store,
                                                     const std::string& deployment_id, const std::string& region) {
  auto resources = monitor::monitored_resources(store, deployment_id, region);
  if (!resources)
    return {{"Logs, metrics and actual costs", "Could not be read: " + resources.error().describe() + "\n"}};

  monitor::StatusRequest request;
  request.logs_query.max_lines = kReportLogLines;
  monitor::StatusViews views = monitor::fetch_status_views(client, store, *resources, request);
  return {section("Logs (last hour: error groups and the last 10 lines)", views.logs, &render_logs_plain),
          section("Metrics (last hour)", views.metrics, &monitor::render_metrics),
          section("Costs (actual month to date beside the estimates)", views.costs, &monitor::render_costs)};
}

}  // namespace hivemind::conductor
