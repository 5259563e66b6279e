#include "cli/conductor_setup.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "aws/curl_transport.h"
#include "aws/settings.h"
#include "aws/sts.h"
#include "common/log.h"
#include "conductor/stages.h"
#include "sandbox/address_map.h"
#include "sandbox/controller.h"
#include "sandbox/paths.h"
#include "sandbox/reconciler.h"
#include "state/paths.h"

namespace hivemind::cli {
namespace {

// The moto endpoint of the sandbox of this state folder, when the sandbox is
// up: the address map exists and names an endpoint, and moto's process runs.
std::optional<std::string> running_sandbox_endpoint(const std::filesystem::path& state_dir) {
  std::error_code error;
  if (!std::filesystem::exists(sandbox::address_map_path(state_dir), error)) return std::nullopt;
  sandbox::SandboxStatus status = sandbox::sandbox_status(sandbox::SandboxPaths(state_dir));
  if (!status.moto_running || !status.map || status.map->moto_endpoint.empty()) return std::nullopt;
  return status.map->moto_endpoint;
}

Result<ResolvedTarget> sandbox_target(const GlobalOptions& global, const std::string& moto_endpoint) {
  sandbox::SandboxSettings settings;
  settings.moto_endpoint = moto_endpoint;
  if (!global.region.empty()) settings.region = global.region;

  ResolvedTarget resolved;
  resolved.target = conductor::Target::kSandbox;
  resolved.client_config = sandbox::sandbox_client_config(settings);
  resolved.description = fmt::format("sandbox (moto at {})", moto_endpoint);
  return resolved;
}

Result<ResolvedTarget> aws_target(const GlobalOptions& global, bool look_up_account) {
  auto transport = std::make_shared<aws::CurlTransport>();
  aws::SettingsOverrides overrides{global.profile, global.region, {}};
  Result<aws::ResolvedSettings> settings =
      aws::resolve_settings(aws::Environment::from_process(), overrides, transport);
  if (!settings) return fail(settings.error());

  ResolvedTarget resolved;
  resolved.target = conductor::Target::kAws;
  resolved.client_config = settings->client;

  std::string account = "(not looked up)";
  if (look_up_account) {
    aws::AwsClient client(settings->client, transport);
    auto identity = aws::sts::get_caller_identity(client);
    if (!identity.ok()) return fail(identity.error().to_error());
    account = identity->account;
  }
  resolved.description = fmt::format("AWS account {}, region {}", account, settings->client.region);
  return resolved;
}

// The host of an endpoint URL, e.g. "127.0.0.1" for "http://127.0.0.1:5000/".
std::string url_host(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start);
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find_first_of(":/")));
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A stage that would connect to a deployed host, replaced because the AWS
// target is an emulator whose addresses are invented and belong to others.
conductor::StageFunction reject_emulated_hosts(std::string endpoint) {
  return [endpoint](conductor::StageContext& context) -> Status {
    return fail(make_error(
        "cli.emulator_without_sandbox",
        fmt::format("Deployment {} talks to an AWS emulator at {} outside the sandbox, so the addresses of its "
                    "instances and load balancers are invented and HiveMind does not connect to them.",
                    context.deployment.id, endpoint),
        "Start the sandbox (`hivemind sandbox up`) and deploy with --target sandbox, or use real AWS endpoints."));
  };
}

}  // namespace

bool is_aws_endpoint(std::string_view url) {
  std::string host = url_host(url);
  return ends_with(host, ".amazonaws.com") || ends_with(host, ".amazonaws.com.cn") || ends_with(host, ".api.aws");
}

std::optional<TargetChoice> parse_target_choice(std::string_view text) {
  if (text == "auto") return TargetChoice::kAuto;
  if (text == "sandbox") return TargetChoice::kSandbox;
  if (text == "aws") return TargetChoice::kAws;
  return std::nullopt;
}

Result<ResolvedTarget> resolve_target(const GlobalOptions& global, TargetChoice choice, bool look_up_account) {
  if (choice == TargetChoice::kAws) return aws_target(global, look_up_account);

  std::optional<std::string> endpoint = running_sandbox_endpoint(global.state_dir);
  if (endpoint) return sandbox_target(global, *endpoint);
  if (choice == TargetChoice::kSandbox) {
    return fail(make_error("cli.sandbox_not_running",
                           fmt::format("The sandbox of state folder {} is not running.", global.state_dir),
                           fmt::format("Start it with `hivemind --state-dir {} sandbox up` (as root), or pass "
                                       "--target aws.",
                                       global.state_dir)));
  }
  return aws_target(global, look_up_account);
}

conductor::ConductorSetup make_conductor_setup(const GlobalOptions& global, const ResolvedTarget& target,
                                               conductor::ConductorEventSink on_event, std::string command_line) {
  conductor::ConductorSetup setup;
  setup.state_dir = global.state_dir;
  setup.target = target.target;
  setup.client_config = target.client_config;
  setup.on_event = std::move(on_event);
  setup.stages = conductor::available_stages();
  setup.stop_app = conductor::stop_app;

  std::string ec2_endpoint = target.client_config.endpoint_for(aws::ec2_service());
  if (target.target == conductor::Target::kAws && !is_aws_endpoint(ec2_endpoint)) {
    for (state::StageName stage : {state::StageName::deploy, state::StageName::secure, state::StageName::verify}) {
      setup.stages[stage] = reject_emulated_hosts(ec2_endpoint);
    }
    setup.stop_app = nullptr;  // it would connect to the same invented hosts
  }
  setup.command_line = std::move(command_line);
  return setup;
}

void configure_command_log(const GlobalOptions& global, const std::string& deployment_id) {
  std::filesystem::path file = std::filesystem::path(global.state_dir) / "hivemind.log";
  if (!deployment_id.empty()) file = state::deployment_paths(global.state_dir, deployment_id).logs / "hivemind.log";
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  log::configure(file, global.verbose ? spdlog::level::debug : spdlog::level::info, false);
}

}  // namespace hivemind::cli
