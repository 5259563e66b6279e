#include "conductor/update_steps.h"

#include <fmt/format.h>

#include <functional>
#include <thread>

#include "aws/elbv2.h"
#include "common/log.h"
#include "conductor/verify_targets.h"
#include "remote/deployer.h"
#include "sandbox/address_map.h"
#include "sandbox/proxy.h"
#include "verify/overwatch.h"

namespace hivemind::conductor {
namespace {

constexpr std::chrono::milliseconds kPollInterval{1000};

std::string health_path(const StageContext& context) {
  if (context.plan_inputs && !context.plan_inputs->health_check.path.empty()) {
    return context.plan_inputs->health_check.path;
  }
  return "/";
}

int app_port(const StageContext& context) { return context.plan_inputs ? context.plan_inputs->app_port : 0; }

// Calls `probe` every kPollInterval until it returns an empty string (done)
// or `timeout` passes. Returns the last text it returned, which describes
// why it is not done yet.
std::string poll(const std::function<std::string()>& probe, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::string not_yet = probe();
    if (not_yet.empty() || std::chrono::steady_clock::now() >= deadline) return not_yet;
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<RecordedResource> require_recorded(const StageContext& context, const std::string& logical_name) {
  auto found = find_recorded(context, logical_name);
  if (!found) return fail(found.error());
  if (!found->has_value()) {
    return fail(make_error(
        "update.resource_missing",
        fmt::format("Deployment {} has no created {}, which the update needs.", context.deployment.id, logical_name),
        fmt::format("Run `hivemind status {}` to see its resources.", context.deployment.id)));
  }
  return **found;
}

// One GET of the health check path on the host itself, through curl over SSH.
std::string probe_over_ssh(remote::Session& session, int port, const std::string& path) {
  std::string command =
      fmt::format("curl -s -o /dev/null -m 5 -w '%{{http_code}}' 'http://127.0.0.1:{}{}'", port, path);
  auto run = session.exec(command);
  if (!run) return "running curl on the host failed: " + run.error().message;
  if (run->exit_status == 0 && run->stdout_text == "200") return "";
  return fmt::format("curl exited with {} and HTTP status \"{}\"", run->exit_status, run->stdout_text);
}

std::string probe_http(const std::string& url) {
  verify::HttpCheck check;
  check.url = url;
  verify::CheckResult result = verify::check_http(check);
  return result.passed ? std::string() : result.detail;
}

// The proxy's stats socket of the deployment's load balancer in the
// sandbox; empty when the sandbox has no proxy for it.
std::string sandbox_stats_socket(const StageContext& context) {
  auto balancer = find_recorded(context, "load_balancer");
  if (!balancer || !balancer->has_value()) return {};
  auto map = sandbox::read_address_map(sandbox::address_map_path(context.state_dir));
  if (!map) return {};
  auto entry = map->load_balancers.find((*balancer)->attributes.value("dns_name", std::string()));
  return entry == map->load_balancers.end() ? std::string() : entry->second.stats_socket;
}

Error health_error(const std::string& what, const std::string& url, std::chrono::seconds timeout,
                   const std::string& last) {
  return make_error("update.unhealthy",
                    fmt::format("{} did not return HTTP 200 at {} within {} s: {}.", what, url, timeout.count(), last),
                    "Check that the new version answers its health check path, and read its log with "
                    "`hivemind logs <id>`.");
}

}  // namespace

Status check_instance_health(StageContext& context, const std::string& instance_resource,
                             std::chrono::seconds timeout) {
  if (app_port(context) <= 0) return ok_unit();  // a worker: install_release checked that it runs
  Result<RecordedResource> instance = require_recorded(context, instance_resource);
  if (!instance) return fail(instance.error());

  std::string url;
  std::function<std::string()> probe;
  std::optional<remote::Session> session;
  if (context.target == Target::kSandbox) {
    Result<Address> address = instance_app_address(context, *instance, app_port(context));
    if (!address) return fail(address.error());
    url = fmt::format("http://{}:{}{}", address->host, address->port, health_path(context));
    probe = [&url] { return probe_http(url); };
  } else {
    Result<remote::Session> connected = connect_instance(context, *instance);
    if (!connected) return fail(connected.error());
    session.emplace(std::move(*connected));
    url = fmt::format("http://127.0.0.1:{}{} on {}", app_port(context), health_path(context), instance->physical_id);
    probe = [&] { return probe_over_ssh(*session, app_port(context), health_path(context)); };
  }
  std::string last = poll(probe, timeout);
  if (last.empty()) return ok_unit();
  return fail(health_error("The app on instance " + instance->physical_id, url, timeout, last));
}

Status check_load_balancer_health(StageContext& context, std::chrono::seconds timeout) {
  auto balancer = find_recorded(context, "load_balancer");
  if (!balancer) return fail(balancer.error());
  if (!balancer->has_value()) return ok_unit();
  bool https = !context.options.certificate_arn.empty();
  Result<Address> address = load_balancer_address(context, **balancer, https ? 443 : 80);
  if (!address) return fail(address.error());

  std::string url =
      fmt::format("{}://{}:{}{}", https ? "https" : "http", address->host, address->port, health_path(context));
  std::string last = poll([&url] { return probe_http(url); }, timeout);
  if (last.empty()) return ok_unit();
  return fail(health_error("The load balancer", url, timeout, last));
}

Status register_target(StageContext& context, const std::string& target_group_arn, const std::string& instance_id) {
  aws::AwsResult<Unit> registered = aws::elbv2::register_targets(*context.client, target_group_arn, {{instance_id, 0}});
  if (!registered) return fail(registered.error().to_error());
  log::get("conductor")->info("registered {} in target group {}", instance_id, target_group_arn);
  return ok_unit();
}

Status deregister_and_drain(StageContext& context, const std::string& target_group_arn, const std::string& instance_id,
                            std::chrono::seconds timeout) {
  aws::AwsResult<Unit> removed = aws::elbv2::deregister_targets(*context.client, target_group_arn, {{instance_id, 0}});
  if (!removed) return fail(removed.error().to_error());
  log::get("conductor")->info("deregistered {} from target group {}", instance_id, target_group_arn);

  std::string stats_socket = context.target == Target::kSandbox ? sandbox_stats_socket(context) : std::string();
  std::string last = poll(
      [&]() -> std::string {
        auto health = aws::elbv2::describe_target_health(*context.client, target_group_arn);
        if (!health) return "DescribeTargetHealth failed: " + health.error().message;
        for (const aws::elbv2::TargetHealth& target : *health) {
          if (target.target_id == instance_id && target.state != "unused") return "the target is " + target.state;
        }
        if (stats_socket.empty()) return "";
        auto servers = sandbox::read_proxy_health(stats_socket);
        if (!servers) return "the sandbox proxy's stats socket is unreadable";  // haproxy may be reloading
        for (const sandbox::ServerHealth& server : *servers) {
          if (server.server == instance_id) return "the sandbox proxy still lists it";
        }
        return "";
      },
      timeout);
  if (last.empty()) return ok_unit();
  return fail(make_error("update.drain_timeout",
                         fmt::format("Instance {} was still not drained from target group {} after {} s: {}.",
                                     instance_id, target_group_arn, timeout.count(), last),
                         "Check the target group's deregistration delay, then run the update again."));
}

Result<std::string> current_release(StageContext& context, const std::string& base_folder) {
  Result<RecordedResource> instance = require_recorded(context, "instance");
  if (!instance) return fail(instance.error());
  Result<remote::Session> session = connect_instance(context, *instance);
  if (!session) return fail(session.error());
  Result<remote::ReleaseLayout> layout =
      remote::make_release_layout(context.deployment.app_name, "current", base_folder);
  if (!layout) return fail(layout.error());
  remote::ExecOptions options;
  options.stdin_data = remote::current_release_script(*layout);
  options.timeout = std::chrono::seconds(30);
  auto run = session->exec(remote::script_runner(false), options);
  if (!run) return fail(run.error());
  std::string version = run->stdout_text.substr(0, run->stdout_text.find('\n'));
  return version;
}

Status activate_previous_release(StageContext& context, const std::string& version, const std::string& base_folder) {
  Result<RecordedResource> instance = require_recorded(context, "instance");
  if (!instance) return fail(instance.error());
  Result<Address> address = instance_ssh_address(context, *instance);
  if (!address) return fail(address.error());
  Result<remote::Session> session = connect_instance(context, *instance);
  if (!session) return fail(session.error());

  remote::ReleaseRequest request;
  request.app = context.deployment.app_name;
  request.version = version;
  request.base = base_folder;
  request.port = app_port(context);
  request.run_as_user = address->user == "root" ? "" : address->user;
  request.sudo_for_systemd = address->user != "root";
  return remote::activate_release(*session, request);
}

}  // namespace hivemind::conductor
