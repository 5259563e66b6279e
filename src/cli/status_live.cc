#include "cli/status_live.h"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "aws/curl_transport.h"
#include "cli/conductor_setup.h"
#include "cli/ui.h"
#include "common/log.h"
#include "monitor/setup.h"
#include "monitor/status_text.h"
#include "sandbox/address_map.h"
#include "sandbox/paths.h"
#include "sandbox/proxy.h"

namespace hivemind::cli {
namespace {

using namespace std::chrono_literals;

// A status read must return quickly even when an endpoint hangs: one retry,
// short connect and call timeouts.
constexpr std::chrono::milliseconds kConnectTimeout = 2s;
constexpr std::chrono::milliseconds kCallTimeout = 10s;
constexpr int kMaxAttempts = 2;
constexpr std::chrono::milliseconds kFollowInterval = 2s;
constexpr std::chrono::seconds kMaxSince = std::chrono::hours(24 * 31);
// How long after its timestamp a log event may still arrive in CloudWatch
// Logs and count for --check. An estimate: the agent flushes every 5 s by
// default, and ingestion adds seconds more.
constexpr std::chrono::minutes kLateArrival{5};

std::atomic<bool> stop_following{false};

void request_stop(int) { stop_following = true; }

std::int64_t to_ms(monitor::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json logs_json(const monitor::LogsView& view) {
  nlohmann::json lines = nlohmann::json::array();
  for (const monitor::LogLine& line : view.lines) {
    lines.push_back({{"timestamp_ms", line.timestamp_ms},
                     {"message", line.message},
                     {"error", monitor::is_error_line(line.message)}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const monitor::ErrorGroup& group : view.groups) {
    groups.push_back({{"kind", monitor::to_string(group.kind)},
                      {"critical", monitor::is_critical(group.kind)},
                      {"signature", group.signature},
                      {"sample", group.sample},
                      {"count", group.count},
                      {"first_seen_ms", group.first_seen_ms},
                      {"last_seen_ms", group.last_seen_ms}});
  }
  return {{"lines", lines}, {"error_groups", groups}};
}

nlohmann::json metrics_json(const monitor::MetricsView& view) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const monitor::MetricSummary& summary : view.metrics) {
    metrics.push_back({{"name", summary.name},
                       {"unit", summary.unit},
                       {"values", summary.values},
                       {"latest", optional_number(summary.latest)},
                       {"minimum", optional_number(summary.minimum)},
                       {"maximum", optional_number(summary.maximum)},
                       {"average", optional_number(summary.average)},
                       {"sparkline", monitor::sparkline(summary.values)}});
  }
  return {{"metrics", metrics},
          {"latency_p50_s", optional_number(view.latency_p50)},
          {"latency_p90_s", optional_number(view.latency_p90)},
          {"latency_p99_s", optional_number(view.latency_p99)}};
}

nlohmann::json cost_line_json(const monitor::CostLine& line) {
  return {{"label", line.label}, {"usd", line.usd}, {"kind", line.actual ? "actual" : "estimate"}};
}

nlohmann::json costs_json(const monitor::CostsView& view) {
  nlohmann::json estimates = nlohmann::json::array();
  for (const monitor::CostLine& line : view.estimates) estimates.push_back(cost_line_json(line));
  return {{"month_to_date", view.month_to_date ? cost_line_json(*view.month_to_date) : nlohmann::json(nullptr)},
          {"estimates", estimates},
          {"estimated_monthly_usd", view.estimated_monthly_usd}};
}

template <typename View>
nlohmann::json view_json(const std::optional<Result<View>>& view, nlohmann::json (*convert)(const View&)) {
  if (!*view) return {{"error", (*view).error().describe()}};
  return convert(**view);
}

// What --check remembers between runs, stored as JSON in attribute
// kLastCheckAttribute: when it ran, and the last time each critical group
// (kind and signature) was seen then.
struct CheckMemory {
  std::optional<monitor::TimePoint> checked_at;
  std::map<std::string, std::int64_t> last_seen_ms;
};

std::string group_key(const monitor::ErrorGroup& group) {
  return std::string(monitor::to_string(group.kind)) + "|" + group.signature;
}

CheckMemory read_check_memory(const state::Store& store, const std::string& deployment_id) {
  CheckMemory memory;
  auto stored = store.attribute(deployment_id, kLastCheckAttribute);
  if (!stored || !*stored) return memory;
  nlohmann::json json = nlohmann::json::parse(**stored, nullptr, false);
  if (!json.is_object() || !json.contains("checked_at_ms") || !json["checked_at_ms"].is_number_integer()) {
    log::get("cli")->warn("ignoring unreadable attribute {} of {}", kLastCheckAttribute, deployment_id);
    return memory;
  }
  memory.checked_at = monitor::TimePoint(std::chrono::milliseconds(json["checked_at_ms"].get<std::int64_t>()));
  nlohmann::json seen = json.value("last_seen_ms", nlohmann::json::object());
  for (const auto& [key, value] : seen.items()) {
    if (value.is_number_integer()) memory.last_seen_ms[key] = value.get<std::int64_t>();
  }
  return memory;
}

Status write_check_memory(state::Store& store, const std::string& deployment_id, monitor::TimePoint now,
                          const std::vector<monitor::ErrorGroup>& groups) {
  nlohmann::json seen = nlohmann::json::object();
  for (const monitor::ErrorGroup& group : groups) seen[group_key(group)] = group.last_seen_ms;
  nlohmann::json json{{"checked_at_ms", to_ms(now)}, {"last_seen_ms", seen}};
  return store.set_attribute(deployment_id, kLastCheckAttribute, json.dump());
}

// Runs the check and remembers it. The first check reads the window; later
// ones read from kLateArrival before the previous check, because log events
// can reach CloudWatch after their own timestamp. A critical group is new
// when the previous check did not see it, or saw it last at an earlier time.
Result<monitor::CheckResult> run_new_check(aws::AwsClient& client, state::Store& store,
                                           const monitor::MonitoredResources& resources, monitor::TimePoint now,
                                           std::chrono::seconds window) {
  CheckMemory memory = read_check_memory(store, resources.deployment_id);
  monitor::TimePoint from = memory.checked_at ? *memory.checked_at - kLateArrival : now - window;
  monitor::LogsQuery query;
  query.now = now;
  query.since = std::max(std::chrono::ceil<std::chrono::seconds>(now - from), std::chrono::seconds(1));
  query.max_lines = 0;
  monitor::IsNewGroup is_new = [&memory](const monitor::ErrorGroup& group) {
    auto seen = memory.last_seen_ms.find(group_key(group));
    return seen == memory.last_seen_ms.end() || group.last_seen_ms > seen->second;
  };

  Result<monitor::CheckResult> result = monitor::run_check(client, resources, query, is_new);
  if (!result) return result;
  Status stored = write_check_memory(store, resources.deployment_id, now, result->critical_groups);
  if (!stored) return fail(stored.error());
  return result;
}

// Returns one problem per sandbox proxy server of `instance_id` that haproxy
// reports DOWN. moto reports every registered target healthy whatever the
// app does, so in the sandbox the proxies' own health checks are the truth.
std::vector<std::string> sandbox_health_problems(const GlobalOptions& global, const std::string& instance_id) {
  Result<sandbox::AddressMap> map = sandbox::read_address_map(sandbox::SandboxPaths(global.state_dir).address_map());
  if (!map) return {"the sandbox's address map could not be read: " + map.error().describe()};
  std::vector<std::string> problems;
  for (const auto& [dns_name, balancer] : map->load_balancers) {
    auto health = sandbox::read_proxy_health(balancer.stats_socket);
    if (!health) {
      problems.push_back(fmt::format("the proxy of {} could not be read: {}", dns_name, health.error().describe()));
      continue;
    }
    for (const sandbox::ServerHealth& server : *health) {
      if (server.server != instance_id || !server.status.starts_with("DOWN")) continue;
      problems.push_back(fmt::format("target {} is {} in the sandbox proxy of {} (last check {})", instance_id,
                                     server.status, dns_name, server.last_check));
    }
  }
  return problems;
}

// The views and the check of one run, each present when requested.
struct LiveResult {
  monitor::StatusViews views;
  std::optional<Result<monitor::CheckResult>> check;
};

LiveResult read_live(aws::AwsClient& client, state::Store& store, const monitor::MonitoredResources& resources,
                     const LiveStatusFlags& flags, std::chrono::seconds window, const GlobalOptions& global,
                     bool sandboxed) {
  monitor::StatusRequest request;
  request.logs = flags.logs || flags.follow;
  request.metrics = flags.metrics;
  request.costs = flags.costs;
  request.logs_query.since = window;
  request.logs_query.filter = flags.filter;
  request.logs_query.max_lines = flags.lines;
  request.metrics_window = window;
  monitor::TimePoint now = request.logs_query.now;

  std::future<Result<monitor::CheckResult>> check;
  if (flags.check) {
    check = std::async(std::launch::async, [&] { return run_new_check(client, store, resources, now, window); });
  }
  LiveResult result;
  result.views = monitor::fetch_status_views(client, store, resources, request);
  if (check.valid()) result.check = check.get();
  if (result.check && *result.check && sandboxed && !resources.instance_id.empty()) {
    monitor::CheckResult& checked = **result.check;
    for (std::string& problem : sandbox_health_problems(global, resources.instance_id)) {
      checked.problems.push_back(std::move(problem));
    }
    checked.ok = checked.problems.empty();
  }
  return result;
}

std::string red(const Ui& ui, const std::string& text) { return ui.paint(text, Color::kRed); }

void print_text(Ui& ui, const LiveResult& result, const LiveStatusFlags& flags) {
  const monitor::StatusViews& views = result.views;
  monitor::Highlight highlight;
  if (ui.color()) highlight = [&ui](const std::string& text) { return red(ui, text); };

  if (views.logs) {
    std::cout << fmt::format("Logs (last {}{}):\n", flags.since,
                             flags.filter.empty() ? "" : fmt::format(", lines containing \"{}\"", flags.filter));
    std::cout << (*views.logs ? monitor::render_logs(**views.logs, highlight)
                              : red(ui, views.logs->error().describe()) + "\n");
  }
  if (views.metrics) {
    std::cout << fmt::format("\nMetrics (last {}):\n", flags.since);
    std::cout << (*views.metrics ? monitor::render_metrics(**views.metrics)
                                 : red(ui, views.metrics->error().describe()) + "\n");
  }
  if (views.costs) {
    std::cout << "\nCosts:\n";
    std::cout << (*views.costs ? monitor::render_costs(**views.costs)
                               : red(ui, views.costs->error().describe()) + "\n");
  }
  if (result.check) {
    std::cout << "\nCheck: ";
    if (!*result.check) {
      std::cout << red(ui, "could not run: " + result.check->error().describe()) << "\n";
    } else if ((*result.check)->ok) {
      std::cout << ui.paint("ok, no new critical error and nothing unhealthy", Color::kGreen) << "\n";
    } else {
      std::cout << red(ui, fmt::format("{} problem(s)", (*result.check)->problems.size())) << "\n";
      for (const std::string& problem : (*result.check)->problems) std::cout << "  " << red(ui, problem) << "\n";
    }
  }
  std::cout << std::flush;
}

nlohmann::json result_json(const LiveResult& result) {
  nlohmann::json json = nlohmann::json::object();
  json.update(status_views_json(result.views));
  if (result.check) {
    if (*result.check) {
      json["check"] = {{"ok", (*result.check)->ok}, {"problems", (*result.check)->problems}};
    } else {
      json["check"] = {{"ok", false}, {"error", result.check->error().describe()}};
    }
  }
  return json;
}

bool all_succeeded(const LiveResult& result) {
  const monitor::StatusViews& views = result.views;
  if (views.logs && !*views.logs) return false;
  if (views.metrics && !*views.metrics) return false;
  if (views.costs && !*views.costs) return false;
  return !result.check || (*result.check && (*result.check)->ok);
}

// Prints the lines that arrive after the ones already shown until SIGINT or
// SIGTERM. Lines of the same millisecond as the newest shown one are
// distinguished by their text, because CloudWatch Logs returns no line numbers.
int follow_logs(Ui& ui, aws::AwsClient& client, const monitor::MonitoredResources& resources,
                const LiveStatusFlags& flags, const monitor::LogsView& first) {
  monitor::Highlight highlight;
  if (ui.color()) highlight = [&ui](const std::string& text) { return red(ui, text); };
  std::int64_t newest = first.lines.empty() ? to_ms(std::chrono::system_clock::now()) : first.lines.back().timestamp_ms;
  std::set<std::string> at_newest;
  for (const monitor::LogLine& line : first.lines) {
    if (line.timestamp_ms == newest) at_newest.insert(line.message);
  }

  stop_following = false;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  while (!stop_following) {
    for (auto slept = 0ms; slept < kFollowInterval && !stop_following; slept += 100ms)
      std::this_thread::sleep_for(100ms);
    if (stop_following) break;

    monitor::LogsQuery query;
    query.now = std::chrono::system_clock::now();
    query.since = std::max(
        std::chrono::ceil<std::chrono::seconds>(query.now - monitor::TimePoint(std::chrono::milliseconds(newest))),
        std::chrono::seconds(1));
    query.filter = flags.filter;
    query.max_lines = 10'000;
    Result<monitor::LogsView> read = monitor::fetch_logs(client, resources, query);
    if (!read) {
      ui.warning("hivemind status --follow: " + read.error().describe() + " Retrying.");
      continue;
    }
    for (const monitor::LogLine& line : read->lines) {
      if (line.timestamp_ms < newest) continue;
      if (line.timestamp_ms == newest && !at_newest.insert(line.message).second) continue;
      if (line.timestamp_ms > newest) {
        newest = line.timestamp_ms;
        at_newest = {line.message};
      }
      if (ui.json_mode()) {
        std::cout << nlohmann::json{{"timestamp_ms", line.timestamp_ms}, {"message", line.message}}.dump() << "\n";
      } else {
        std::cout << monitor::render_log_line(line, highlight);
      }
    }
    std::cout << std::flush;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return kExitSuccess;
}

}  // namespace

Result<aws::ClientConfig> live_client_config(const GlobalOptions& global, const state::Deployment& deployment) {
  TargetChoice choice =
      deployment.endpoint_kind == state::EndpointKind::sandbox ? TargetChoice::kSandbox : TargetChoice::kAws;
  Result<ResolvedTarget> target = resolve_target(global, choice, false);
  if (!target) return fail(target.error());
  aws::ClientConfig config = target->client_config;
  if (global.region.empty() && !deployment.region.empty()) config.region = deployment.region;
  config.max_attempts = kMaxAttempts;
  config.transport.connect_timeout = kConnectTimeout;
  config.transport.total_timeout = kCallTimeout;
  return config;
}

bool wants_live_status(const LiveStatusFlags& flags) {
  return flags.logs || flags.metrics || flags.costs || flags.check || flags.follow;
}

std::optional<std::chrono::seconds> parse_since(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  long long count = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || count > 1'000'000'000) return std::nullopt;
    count = count * 10 + (c - '0');
  }
  std::chrono::seconds unit;
  switch (text.back()) {
    case 's':
      unit = 1s;
      break;
    case 'm':
      unit = 1min;
      break;
    case 'h':
      unit = 1h;
      break;
    case 'd':
      unit = 24h;
      break;
    default:
      return std::nullopt;
  }
  if (count == 0 || count > kMaxSince / unit) return std::nullopt;
  return unit * count;
}

nlohmann::json status_views_json(const monitor::StatusViews& views) {
  nlohmann::json json = nlohmann::json::object();
  if (views.logs) json["logs"] = view_json(views.logs, &logs_json);
  if (views.metrics) json["metrics"] = view_json(views.metrics, &metrics_json);
  if (views.costs) json["costs"] = view_json(views.costs, &costs_json);
  return json;
}

int run_live_status(const GlobalOptions& global, const LiveStatusFlags& flags, state::Store& store,
                    const state::Deployment& deployment) {
  Ui ui(!global.no_color, global.json);
  std::optional<std::chrono::seconds> window = parse_since(flags.since);
  if (!window) {
    ui.error(
        fmt::format("hivemind status: invalid --since \"{}\". Pass a number and a unit s, m, h or d, "
                    "up to 31 days, e.g. --since 30m.",
                    flags.since));
    return kExitUsage;
  }
  configure_command_log(global, deployment.id);
  Result<aws::ClientConfig> config = live_client_config(global, deployment);
  if (!config) {
    ui.error("hivemind status: " + config.error().describe());
    return kExitFailure;
  }
  auto resources = monitor::monitored_resources(store, deployment.id, config->region);
  if (!resources) {
    ui.error("hivemind status: " + resources.error().describe());
    return kExitFailure;
  }
  aws::AwsClient client(*config, std::make_shared<aws::CurlTransport>());

  bool sandboxed = deployment.endpoint_kind == state::EndpointKind::sandbox;
  LiveResult result = read_live(client, store, *resources, flags, *window, global, sandboxed);
  if (global.json) {
    // --follow prints one JSON document per line, the first one included.
    std::cout << result_json(result).dump(flags.follow ? -1 : 2) << "\n" << std::flush;
  } else {
    print_text(ui, result, flags);
  }
  if (!all_succeeded(result)) return kExitFailure;
  if (flags.follow) return follow_logs(ui, client, *resources, flags, **result.views.logs);
  return kExitSuccess;
}

}  // namespace hivemind::cli
