#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "state/paths.h"

namespace hivemind::report {
namespace {

using nlohmann::json;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool names_secret(const std::string& key) {
  std::string name = lower(key);
  for (const char* word : {"password", "secret", "token", "private_key", "credential"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string attribute(const ReportData& data, const std::string& key) {
  auto found = data.attributes.find(key);
  return found == data.attributes.end() ? "" : found->second;
}

std::string format_duration(std::chrono::milliseconds duration) {
  double seconds = static_cast<double>(duration.count()) / 1000.0;
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  int whole = static_cast<int>(seconds);
  return fmt::format("{}m{:02d}s", whole / 60, whole % 60);
}

std::string format_time(state::TimePoint time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

void add_header(std::string& out, const ReportData& data) {
  const state::Deployment& deployment = data.deployment;
  out += fmt::format("HiveMind deployment report: {}\n\n", deployment.id);
  out += fmt::format("App:      {}\n", deployment.app_name);
  out += fmt::format("Status:   {}\n", state::to_string(deployment.status));
  out += fmt::format("Source:   {}\n", deployment.source);
  out += fmt::format("Version:  {}\n", deployment.version);
  out += fmt::format("Region:   {} ({})\n", deployment.region, state::to_string(deployment.endpoint_kind));
  out += fmt::format("Created:  {}\n", format_time(deployment.created_at));
}

void add_timeline(std::string& out, const ReportData& data) {
  out += "\nTimeline\n";
  if (data.stage_runs.empty()) out += "  (no stage has run)\n";
  std::chrono::milliseconds total{0};
  for (const state::StageRun& run : data.stage_runs) {
    std::string attempt = run.attempt > 1 ? fmt::format(" (attempt {})", run.attempt) : "";
    out += fmt::format("  {:<10} {:<10} {:>8}{}\n", state::to_string(run.stage), state::to_string(run.outcome),
                       format_duration(run.duration()), attempt);
    total += run.duration();
  }
  if (!data.stage_runs.empty()) out += fmt::format("  {:<21} {:>8}\n", "total", format_duration(total));
}

void add_resources(std::string& out, const ReportData& data, double& monthly) {
  out += "\nResources\n";
  for (const state::Resource& resource : data.resources) {
    if (resource.status == state::ResourceStatus::deleted) continue;
    out += fmt::format("  {:<20} {:<34} {:<10} {}  ${:.2f}/month (estimate)\n", resource.logical_name, resource.kind,
                       state::to_string(resource.status), resource.physical_id.empty() ? "-" : resource.physical_id,
                       resource.estimated_monthly_cost_usd);
    monthly += resource.estimated_monthly_cost_usd;
  }
}

// Scalars and lists of scalars of a JSON object, one "key: value" line each.
void add_fields(std::string& out, const json& object, const char* label) {
  for (const auto& [key, value] : object.items()) {
    if (names_secret(key) || value.is_null() || value.is_object()) continue;
    if (value.is_string() && value.get<std::string>().empty()) continue;
    if (value.is_array() && (value.empty() || !value.front().is_primitive())) continue;
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    out += fmt::format("  {:<16} {}  ({})\n", key, text, label);
  }
}

void add_configuration(std::string& out, const ReportData& data) {
  out += "\nConfiguration\n";
  json analysis = json::parse(attribute(data, "analysis"), nullptr, false);
  if (analysis.is_object()) add_fields(out, analysis, "detected");

  static const json kDefaults = {{"instance_type", "t3.micro"}, {"max_retries", 3}, {"auto_cleanup", true}};
  json options = json::parse(data.deployment.options_json, nullptr, false);
  if (!options.is_object()) return;
  for (const auto& [key, value] : options.items()) {
    if (key == "source" || key == "description") continue;
    bool is_default = kDefaults.contains(key) && kDefaults[key] == value;
    json single = {{key, value}};
    add_fields(out, single, is_default ? "default" : "overridden");
  }
}

void add_verifications(std::string& out, const ReportData& data) {
  out += "\nVerification\n";
  if (data.verifications.empty()) out += "  (no checks recorded)\n";
  for (const state::VerificationResult& result : data.verifications) {
    std::string detail = result.detail;
    for (std::size_t at = detail.find('\n'); at != std::string::npos; at = detail.find('\n', at + 1)) {
      detail.insert(at + 1, "      ");
    }
    out += fmt::format("  [{}] {}{}\n", state::verification_label(result), result.check,
                       detail.empty() ? "" : ": " + detail);
  }
}

void add_access(std::string& out, const ReportData& data) {
  out += "\nAccess\n";
  std::string url = attribute(data, "url");
  std::string ssh = attribute(data, "ssh_command");
  std::string database = strip_credentials(attribute(data, "database_endpoint"));
  std::string dashboard = attribute(data, "dashboard_url");
  out += fmt::format("  URL:        {}\n", url.empty() ? "(none)" : url);
  out += fmt::format("  SSH:        {}\n", ssh.empty() ? "(none)" : ssh);
  out += fmt::format("  Database:   {}\n", database.empty() ? "(none)" : database);
  if (!dashboard.empty()) out += fmt::format("  Dashboard:  {}\n", dashboard);
}

void add_costs(std::string& out, const ReportData& data, double monthly) {
  out += "\nCosts (estimates from list prices; see `hivemind status --show-costs` for actual costs)\n";
  std::map<std::string, double> by_kind;
  for (const state::Resource& resource : data.resources) {
    if (resource.status == state::ResourceStatus::deleted || resource.estimated_monthly_cost_usd <= 0) continue;
    by_kind[resource.kind] += resource.estimated_monthly_cost_usd;
  }
  for (const auto& [kind, usd] : by_kind) out += fmt::format("  {:<34} ${:.2f}/month\n", kind, usd);
  out += fmt::format("  {:<34} ${:.2f}/month\n", "total", monthly);
}

void add_live_sections(std::string& out, const ReportData& data) {
  for (const LiveSection& section : data.live) {
    out += "\n" + section.title + "\n";
    size_t start = 0;
    while (start < section.body.size()) {
      size_t end = section.body.find('\n', start);
      if (end == std::string::npos) end = section.body.size();
      std::string line = section.body.substr(start, end - start);
      out += line.empty() ? "\n" : "  " + line + "\n";
      start = end + 1;
    }
  }
}

void add_next_steps(std::string& out, const ReportData& data) {
  const std::string& id = data.deployment.id;
  out += "\nNext steps\n";
  out += fmt::format("  hivemind status {} --show-logs --show-metrics --show-costs\n", id);
  out += fmt::format("  hivemind update {}\n", id);
  out += fmt::format("  hivemind rollback {}\n", id);
  out += fmt::format("  hivemind destroy {}\n", id);
}

void add_troubleshooting(std::string& out, const ReportData& data) {
  const state::Deployment& deployment = data.deployment;
  bool failed_checks = std::any_of(data.verifications.begin(), data.verifications.end(),
                                   [](const state::VerificationResult& result) { return !result.passed; });
  if (!deployment.failure && !failed_checks) return;

  out += "\nTroubleshooting\n";
  if (deployment.failure) {
    const state::FailureInfo& failure = *deployment.failure;
    std::string stage = deployment.failed_stage ? std::string(state::to_string(*deployment.failed_stage)) : "unknown";
    out += fmt::format("  Stage {} failed ({}): {}\n", stage, failure.agent, failure.message);
    if (!failure.action.empty()) out += fmt::format("  AWS action: {}\n", failure.action);
    if (!failure.aws_request_id.empty()) out += fmt::format("  AWS request id: {}\n", failure.aws_request_id);
    out += fmt::format("  Retry from the failed stage: hivemind retry {}\n", deployment.id);
  }
  if (failed_checks) {
    out += fmt::format("  Failed checks: read the app's logs with hivemind status {} --show-logs\n", deployment.id);
  }
}

}  // namespace

std::string strip_credentials(const std::string& endpoint) {
  size_t at = endpoint.rfind('@');
  if (at == std::string::npos) return endpoint;
  size_t scheme = endpoint.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  if (at < start) return endpoint;
  return endpoint.substr(0, start) + endpoint.substr(at + 1);
}

std::string render_report(const ReportData& data) {
  std::string out;
  double monthly = 0;
  add_header(out, data);
  add_timeline(out, data);
  add_resources(out, data, monthly);
  add_configuration(out, data);
  add_verifications(out, data);
  add_access(out, data);
  add_costs(out, data, monthly);
  add_live_sections(out, data);
  add_next_steps(out, data);
  add_troubleshooting(out, data);
  return out;
}

Result<std::filesystem::path> write_report(state::Store& store, const std::string& deployment_id,
                                           std::vector<LiveSection> live) {
  ReportData data;
  data.live = std::move(live);
  auto deployment = store.find_deployment(deployment_id);
  if (!deployment) return fail(deployment.error());
  data.deployment = *deployment;
  auto runs = store.stage_runs(deployment_id);
  if (!runs) return fail(runs.error());
  data.stage_runs = *runs;
  auto resources = store.resources(deployment_id);
  if (!resources) return fail(resources.error());
  data.resources = *resources;
  auto verifications = store.verifications(deployment_id);
  if (!verifications) return fail(verifications.error());
  data.verifications = *verifications;
  auto attributes = store.attributes(deployment_id);
  if (!attributes) return fail(attributes.error());
  data.attributes = *attributes;

  auto paths = state::ensure_deployment_dirs(store.state_dir(), deployment_id);
  if (!paths) return fail(paths.error());
  std::filesystem::path file = paths->report / "report.txt";
  std::filesystem::path partial = paths->report / "report.txt.partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << render_report(data);
    if (!out.flush()) {
      return fail(make_error("report.write_failed", "Writing " + partial.string() + " failed.",
                             "Check that the disk has space and the folder is writable."));
    }
  }
  std::error_code error;
  std::filesystem::rename(partial, file, error);
  if (error) {
    return fail(make_error("report.write_failed", "Replacing " + file.string() + " failed: " + error.message(),
                           "Check that the folder is writable."));
  }
  Status stored = store.set_attribute(deployment_id, "report_path", file.string());
  if (!stored) return fail(stored.error());
  return file;
}

}  // namespace hivemind::report
