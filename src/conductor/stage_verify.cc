// Overwatch's stage: checks that the deployed app responds on the instance
// and through the load balancer, that the database accepts the app's login,
// and that the HTTPS certificate is valid; then stores every result.

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "common/log.h"
#include "conductor/stages.h"
#include "conductor/verify_targets.h"
#include "verify/overwatch.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAgent = "Overwatch";
constexpr int kLogTailLines = 30;

void progress(const StageContext& context, std::string text) {
  ConductorEvent event;
  event.kind = ConductorEvent::Kind::kProgress;
  event.stage = state::StageName::verify;
  event.agent = kAgent;
  event.text = std::move(text);
  context.emit(event);
}

std::string health_path(const StageContext& context) {
  if (context.plan_inputs && !context.plan_inputs->health_check.path.empty())
    return context.plan_inputs->health_check.path;
  return "/";
}

int app_port(const StageContext& context) { return context.plan_inputs ? context.plan_inputs->app_port : 0; }

verify::CheckResult unresolved(const std::string& name, const Error& error) {
  verify::CheckResult result;
  result.name = name;
  result.diagnosis = verify::Diagnosis::kInvalidRequest;
  result.detail = error.describe();
  return result;
}

// On AWS the app's security group admits only the load balancer, so the
// instance's own response is read on the host itself, over SSH.
verify::CheckResult check_instance_over_ssh(remote::Session& session, int port, const std::string& path) {
  verify::CheckResult result;
  result.name = "http_instance";
  std::string command =
      fmt::format("curl -s -o /dev/null -m 5 -w '%{{http_code}}' 'http://127.0.0.1:{}{}'", port, path);
  auto run = session.exec(command);
  if (!run) {
    result.diagnosis = verify::Diagnosis::kUnreachable;
    result.detail = "Running curl on the host failed: " + run.error().describe();
    return result;
  }
  result.latency = run->duration;
  std::string code = run->stdout_text;
  if (run->exit_status == 7) result.diagnosis = verify::Diagnosis::kRefused;
  if (run->exit_status == 28) result.diagnosis = verify::Diagnosis::kTimedOut;
  if (run->exit_status == 0 && code == "200") {
    result.passed = true;
    result.detail = fmt::format("GET http://127.0.0.1:{}{} on the host returned HTTP 200.", port, path);
    return result;
  }
  if (run->exit_status == 0) result.diagnosis = verify::Diagnosis::kWrongStatus;
  result.detail = fmt::format("GET http://127.0.0.1:{}{} on the host failed: curl exit {}, HTTP \"{}\" ({}).", port,
                              path, run->exit_status, code, verify::diagnosis_name(result.diagnosis));
  return result;
}

verify::CheckResult check_instance(StageContext& context, const RecordedResource& instance,
                                   std::optional<remote::Session>& session) {
  if (context.target != Target::kSandbox) {
    if (!session) return unresolved("http_instance", make_error("verify.no_ssh", "No SSH session to the instance."));
    return check_instance_over_ssh(*session, app_port(context), health_path(context));
  }
  auto address = instance_app_address(context, instance, app_port(context));
  if (!address) return unresolved("http_instance", address.error());
  verify::HttpCheck check;
  check.name = "http_instance";
  check.url = fmt::format("http://{}:{}{}", address->host, address->port, health_path(context));
  return verify::check_http(check);
}

std::vector<verify::CheckResult> check_load_balancer(StageContext& context, const RecordedResource& balancer) {
  std::vector<verify::CheckResult> results;
  bool https = !context.options.certificate_arn.empty();
  std::uint16_t port = https ? 443 : 80;
  auto address = load_balancer_address(context, balancer, port);
  if (!address) {
    results.push_back(unresolved("http_load_balancer", address.error()));
    return results;
  }

  verify::HttpCheck check;
  check.name = "http_load_balancer";
  check.url = fmt::format("{}://{}:{}{}", https ? "https" : "http", address->host, address->port, health_path(context));
  results.push_back(verify::check_http(check));

  if (https) {
    verify::TlsCheck tls;
    tls.name = "tls_load_balancer";
    tls.host = address->host;
    tls.port = address->port;
    tls.server_name = balancer.attributes.value("dns_name", std::string());
    results.push_back(verify::check_tls(tls));
  }
  return results;
}

verify::CheckResult check_database(StageContext& context, const RecordedResource& database) {
  auto address = database_address(context, database);
  if (!address) return unresolved("database_login", address.error());
  auto password = read_database_password(context, database);
  if (!password) return unresolved("database_login", password.error());

  verify::DatabaseCheck check;
  check.name = "database_login";
  check.engine = database.attributes.value("engine", std::string("postgres"));
  check.host = address->host;
  check.port = address->port;
  check.user = database.attributes.value("master_username", std::string());
  check.password = std::move(*password);
  check.database = database.attributes.value("database_name", std::string());
  return verify::check_database(check);
}

std::string log_tail(const StageContext& context, std::optional<remote::Session>& session) {
  if (!session) return {};
  std::string command =
      fmt::format("tail -n {} /opt/hivemind/{}/logs/app.log 2>&1", kLogTailLines, context.deployment.app_name);
  auto run = session->exec(command);
  return run ? run->stdout_text : "(reading the app log failed: " + run.error().message + ")";
}

Status store_results(StageContext& context, const std::vector<verify::CheckResult>& results, const std::string& tail) {
  for (const auto& result : results) {
    state::VerificationResult row;
    row.deployment_id = context.deployment.id;
    row.check = result.name;
    row.passed = result.passed;
    row.detail = result.detail;
    if (!result.passed && !tail.empty()) row.detail += "\nLast lines of the app log:\n" + tail;
    row.checked_at = std::chrono::system_clock::now();
    auto stored = context.store->add_verification(row);
    if (!stored) return fail(stored.error());
    progress(context, fmt::format("{} {}: {}", result.passed ? "passed" : "FAILED", result.name, result.detail));
  }
  return ok_unit();
}

Status summarize(const std::vector<verify::CheckResult>& results) {
  std::string failed;
  for (const auto& result : results) {
    if (!result.passed)
      failed +=
          (failed.empty() ? "" : ", ") + fmt::format("{} ({})", result.name, verify::diagnosis_name(result.diagnosis));
  }
  if (failed.empty()) return ok_unit();
  return fail(make_error("verify.checks_failed", "Verification failed: " + failed + ".",
                         "Run `hivemind status` for each check's detail and the app log, fix the app, then "
                         "`hivemind retry`."));
}

}  // namespace

Status run_verify(StageContext& context) {
  auto instance = find_recorded(context, "instance");
  if (!instance) return fail(instance.error());
  if (!instance->has_value()) {
    return fail(make_error("verify.no_instance", "The deployment has no created instance to verify.",
                           "Run `hivemind retry` to provision it."));
  }

  std::optional<remote::Session> session;
  auto connected = connect_instance(context, **instance);
  if (connected)
    session.emplace(std::move(*connected));
  else
    log::get("overwatch")->warn("SSH to {} failed: {}", (*instance)->physical_id, connected.error().message);

  std::vector<verify::CheckResult> results;
  if (app_port(context) > 0) {
    progress(context, "checking the app on the instance");
    results.push_back(check_instance(context, **instance, session));
  }
  if (auto balancer = find_recorded(context, "load_balancer"); balancer && balancer->has_value()) {
    progress(context, "checking the load balancer");
    for (auto& result : check_load_balancer(context, **balancer)) results.push_back(std::move(result));
  }
  if (auto database = find_recorded(context, "database"); database && database->has_value()) {
    progress(context, "logging in to the database");
    results.push_back(check_database(context, **database));
  }

  bool any_failed = std::any_of(results.begin(), results.end(), [](const auto& result) { return !result.passed; });
  std::string tail = any_failed ? log_tail(context, session) : std::string();
  Status stored = store_results(context, results, tail);
  if (!stored) return stored;
  return summarize(results);
}

}  // namespace hivemind::conductor
