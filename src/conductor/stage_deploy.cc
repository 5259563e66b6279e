// Dan the Deployer's stage: puts the built artifact on the deployment's
// instance over SSH, starts it, and registers the instance in the target
// group. The host-side steps live in remote/deployer.h. This file resolves
// the host's address, key and user, builds the app's environment, and talks
// to the load balancer.

#include "conductor/stage_deploy.h"

#include <fmt/format.h>

#include <thread>

#include "aws/elbv2.h"
#include "aws/protocol.h"
#include "aws/ssm.h"
#include "common/log.h"
#include "remote/deployer.h"
#include "remote/session.h"
#include "sandbox/address_map.h"
#include "sandbox/proxy.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAgent = "Dan the Deployer";
constexpr const char* kFailureAgent = "deployer";
constexpr const char* kAwsUser = "ec2-user";

// The SSH address and login user of the instance.
struct HostAddress {
  std::string instance_id;
  std::string host;
  int port = 22;
  std::string user;
};

void progress(const StageContext& context, std::string text) {
  context.emit({ConductorEvent::Kind::kProgress, state::StageName::deploy, kAgent, std::move(text)});
}

// Records what failed for the deployment's failure record and returns the error.
Error deploy_failure(StageContext& context, std::string action, Error error, std::string request_id = {}) {
  context.failure = state::FailureInfo{kFailureAgent, std::move(action), std::move(request_id), error.describe()};
  return error;
}

Error aws_failure(StageContext& context, const aws::AwsError& error) {
  return deploy_failure(context, error.iam_action(), error.to_error(), error.request_id);
}

// The created resource `name` of the deployment, with its attributes parsed.
struct CreatedResource {
  std::string physical_id;
  nlohmann::json attributes;
};

Result<std::optional<CreatedResource>> find_created(const StageContext& context, const std::string& name) {
  Result<std::optional<state::Resource>> found = context.store->find_resource(context.deployment.id, name);
  if (!found) return fail(found.error());
  if (!found->has_value() || (*found)->status != state::ResourceStatus::created) {
    return std::optional<CreatedResource>();
  }
  nlohmann::json attributes = nlohmann::json::parse((*found)->attributes_json, nullptr, false);
  if (attributes.is_discarded() || !attributes.is_object()) attributes = nlohmann::json::object();
  return std::optional<CreatedResource>(CreatedResource{(*found)->physical_id, attributes});
}

Result<CreatedResource> require_created(const StageContext& context, const std::string& name) {
  Result<std::optional<CreatedResource>> found = find_created(context, name);
  if (!found) return fail(found.error());
  if (!found->has_value()) {
    return fail(make_error(
        "deploy.resource_missing",
        fmt::format("Deployment {} has no created {}, which the deploy stage needs.", context.deployment.id, name),
        fmt::format("Run `hivemind retry {}` so that provisioning creates it.", context.deployment.id)));
  }
  return **found;
}

std::string attribute_text(const nlohmann::json& attributes, const char* key) {
  auto found = attributes.find(key);
  return found != attributes.end() && found->is_string() ? found->get<std::string>() : std::string();
}

Result<sandbox::AddressMap> read_map(const StageContext& context) {
  return sandbox::read_address_map(sandbox::address_map_path(context.state_dir));
}

// Looks the instance up in the sandbox's address map, polling until the
// sandbox adds it or `timeout` passes. Never falls back to moto's addresses.
Result<HostAddress> sandbox_host(const StageContext& context, const std::string& instance_id,
                                 std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool announced = false;
  while (true) {
    Result<sandbox::AddressMap> map = read_map(context);
    Error error = map ? Error{} : map.error();
    if (map) {
      Result<sandbox::HostEntry> host = map->host(instance_id);
      if (host) return HostAddress{instance_id, host->ssh_host, host->ssh_port, host->ssh_user};
      error = host.error();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      error.message +=
          fmt::format(" HiveMind waited {} s for the sandbox to add instance {}.", timeout.count(), instance_id);
      return fail(std::move(error));
    }
    if (!announced) progress(context, "waiting for the sandbox to start host " + instance_id);
    announced = true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

Result<HostAddress> resolve_host(StageContext& context, std::chrono::seconds map_timeout,
                                 const std::string& instance_resource = "instance") {
  Result<CreatedResource> instance = require_created(context, instance_resource);
  if (!instance) return fail(deploy_failure(context, "resolve-host", instance.error()));
  if (context.target == Target::kSandbox) {
    Result<HostAddress> host = sandbox_host(context, instance->physical_id, map_timeout);
    if (!host) return fail(deploy_failure(context, "resolve-host", host.error()));
    return host;
  }

  std::string public_ip = attribute_text(instance->attributes, "public_ip");
  if (public_ip.empty()) {
    return fail(deploy_failure(
        context, "resolve-host",
        make_error("deploy.no_public_ip",
                   fmt::format("Instance {} has no public IP address recorded, so HiveMind cannot reach it over SSH.",
                               instance->physical_id),
                   "Check that its subnet maps public IPs on launch, then run `hivemind retry`.")));
  }
  return HostAddress{instance->physical_id, public_ip, 22, kAwsUser};
}

std::filesystem::path private_key_file(const StageContext& context) {
  Result<std::optional<CreatedResource>> key = find_created(context, "key_pair");
  if (key && key->has_value()) {
    std::string recorded = attribute_text((*key)->attributes, "private_key_file");
    if (!recorded.empty()) return recorded;
  }
  return context.paths.root / "keys" / "id_ed25519";
}

// Connects with trust on first use: the fingerprint recorded for the instance
// must match; on the first connection the key seen is recorded.
Result<remote::Session> connect_host(StageContext& context, const HostAddress& host, const DeploySettings& settings) {
  Result<std::optional<state::HostKey>> known = context.store->find_host_key(context.deployment.id, host.instance_id);
  if (!known) return fail(known.error());

  remote::ConnectOptions options;
  options.host = host.host;
  options.port = host.port;
  options.user = host.user;
  options.private_key_file = private_key_file(context);
  if (known->has_value()) options.expected_host_key_fingerprint = (*known)->fingerprint;
  options.connect_timeout = settings.ssh_connect;
  options.connect_attempts = settings.ssh_attempts;
  options.retry_delay = settings.ssh_retry_delay;
  options.on_retry = [&context, &host](int attempt, const Error&) {
    progress(context, fmt::format("waiting for SSH on {}:{} (attempt {})", host.host, host.port, attempt));
  };

  Result<remote::Session> session = remote::Session::connect(options);
  if (!session) return fail(deploy_failure(context, "ssh:connect", session.error()));
  if (!known->has_value()) {
    state::HostKey key{context.deployment.id, host.instance_id, session->host_key_fingerprint(),
                       std::chrono::system_clock::now()};
    Status remembered = context.store->remember_host_key(key);
    if (!remembered) return fail(deploy_failure(context, "ssh:connect", remembered.error()));
    log::get("deployer")->info("trusting host key {} of {} on first use", key.fingerprint, host.instance_id);
  }
  return session;
}

// Reads the database's master password from SSM. The value stays a Secret.
Result<Secret> database_password(StageContext& context, const CreatedResource& database) {
  std::string logical = attribute_text(database.attributes, "password_parameter");
  Result<CreatedResource> parameter = require_created(context, logical.empty() ? "db_password" : logical);
  if (!parameter) return fail(deploy_failure(context, "ssm:GetParameter", parameter.error()));
  aws::AwsResult<aws::ssm::Parameter> read = aws::ssm::get_parameter(*context.client, parameter->physical_id, true);
  if (!read) return fail(aws_failure(context, read.error()));
  return read->value;
}

// The host and port that the app uses to reach the database: RDS's endpoint
// on AWS; in the sandbox, the stand-in the address map gives for it.
Result<sandbox::Endpoint> database_endpoint(StageContext& context, const CreatedResource& database) {
  std::string address = attribute_text(database.attributes, "endpoint_address");
  int port = database.attributes.value("endpoint_port", 0);
  if (context.target != Target::kSandbox) return sandbox::Endpoint{address, static_cast<std::uint16_t>(port)};
  Result<sandbox::AddressMap> map = read_map(context);
  if (!map) return fail(deploy_failure(context, "resolve-database", map.error()));
  Result<sandbox::Endpoint> local = map->database(address, static_cast<std::uint16_t>(port));
  if (!local) return fail(deploy_failure(context, "resolve-database", local.error()));
  // The app runs inside the sandbox host, which reaches the database at the
  // bridge address rather than at the local one.
  return map->databases.at(fmt::format("{}:{}", address, port)).from_hosts;
}

Result<std::optional<Secret>> database_url(StageContext& context) {
  Result<std::optional<CreatedResource>> database = find_created(context, "database");
  if (!database) return fail(database.error());
  if (!database->has_value()) return std::optional<Secret>();

  Result<sandbox::Endpoint> endpoint = database_endpoint(context, **database);
  if (!endpoint) return fail(endpoint.error());
  Result<Secret> password = database_password(context, **database);
  if (!password) return fail(password.error());

  const nlohmann::json& attributes = (*database)->attributes;
  std::string scheme = attribute_text(attributes, "engine") == "mysql" ? "mysql" : "postgresql";
  return std::optional<Secret>(Secret(
      fmt::format("{}://{}:{}@{}:{}/{}", scheme, aws::percent_encode(attribute_text(attributes, "master_username")),
                  aws::percent_encode(password->reveal()), endpoint->host, endpoint->port,
                  aws::percent_encode(attribute_text(attributes, "database_name")))));
}

Result<remote::ReleaseRequest> release_request(StageContext& context, const HostAddress& host,
                                               const DeploySettings& settings) {
  const build::Manifest& manifest = context.build->manifest;
  remote::ReleaseRequest request;
  request.app = context.deployment.app_name;
  request.version = manifest.version;
  request.base = settings.base_folder;
  request.artifact = context.build->artifact;
  request.runtime = remote::runtime_from_name(manifest.runtime);
  request.start_command = manifest.start_command;
  request.port = manifest.port;
  request.run_as_user = host.user == "root" ? "" : host.user;
  request.sudo_for_systemd = host.user != "root";
  request.listen_timeout = settings.listen;
  request.on_step = [&context](std::string_view step) { progress(context, std::string(step)); };

  if (manifest.port > 0) request.environment.emplace_back("PORT", Secret(std::to_string(manifest.port)));
  Result<std::optional<Secret>> url = database_url(context);
  if (!url) return fail(url.error());
  if (url->has_value()) request.environment.emplace_back("DATABASE_URL", std::move(**url));
  return request;
}

Status record_host_attributes(StageContext& context, const HostAddress& host, const std::string& version) {
  std::string ssh_command =
      fmt::format("ssh -i {} {}@{} -p {}", private_key_file(context).string(), host.user, host.host, host.port);
  for (const auto& [key, value] : {std::pair<const char*, std::string>{"ssh_command", ssh_command},
                                   {"instance_address", host.host},
                                   {"release", version}}) {
    Status saved = context.store->set_attribute(context.deployment.id, key, value);
    if (!saved) return saved;
  }
  return ok_unit();
}

// Polls `probe` every `interval` until it returns true or `timeout` passes.
Result<bool> poll_until(const std::function<Result<bool>()>& probe, std::chrono::seconds timeout,
                        std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    Result<bool> done = probe();
    if (!done || *done) return done;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

Status wait_target_healthy(StageContext& context, const std::string& target_group_arn, const std::string& instance_id,
                           const DeploySettings& settings) {
  std::string last_state = "unknown";
  std::string last_reason;
  std::optional<aws::AwsError> failed;
  auto start = std::chrono::steady_clock::now();
  Result<bool> healthy = poll_until(
      [&]() -> Result<bool> {
        aws::AwsResult<std::vector<aws::elbv2::TargetHealth>> health =
            aws::elbv2::describe_target_health(*context.client, target_group_arn);
        if (!health) {
          failed = health.error();
          return fail(health.error().to_error());
        }
        for (const aws::elbv2::TargetHealth& target : *health) {
          if (target.target_id != instance_id) continue;
          last_state = target.state;
          last_reason = target.description.empty() ? target.reason : target.description;
        }
        context.emit({ConductorEvent::Kind::kWaiting, state::StageName::deploy, kAgent,
                      fmt::format("target {} is {}", instance_id, last_state),
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start),
                      std::chrono::seconds(60)});
        return last_state == "healthy";
      },
      settings.target_health, settings.poll_interval);
  if (!healthy) return fail(failed ? aws_failure(context, *failed) : healthy.error());
  if (*healthy) return ok_unit();
  return fail(deploy_failure(
      context, "elasticloadbalancing:DescribeTargetHealth",
      make_error("deploy.target_unhealthy",
                 fmt::format("Instance {} did not become healthy in target group {} within {} s: it is {}{}.",
                             instance_id, target_group_arn, settings.target_health.count(), last_state,
                             last_reason.empty() ? "" : " (" + last_reason + ")"),
                 "Check that the app answers the health check path with a 2xx or 3xx status, and read its log "
                 "with `hivemind logs`.")));
}

// In the sandbox, haproxy's own health checks reach the app for real: wait
// until the load balancer's proxy reports the instance up.
Status wait_proxy_healthy(StageContext& context, const std::string& instance_id, const DeploySettings& settings) {
  Result<std::optional<CreatedResource>> balancer = find_created(context, "load_balancer");
  if (!balancer || !balancer->has_value()) return ok_unit();
  Result<sandbox::AddressMap> map = read_map(context);
  if (!map) return fail(deploy_failure(context, "sandbox:proxy-health", map.error()));
  auto entry = map->load_balancers.find(attribute_text((*balancer)->attributes, "dns_name"));
  if (entry == map->load_balancers.end() || entry->second.stats_socket.empty()) return ok_unit();

  std::string last_status = "not listed";
  Result<bool> up = poll_until(
      [&]() -> Result<bool> {
        Result<std::vector<sandbox::ServerHealth>> servers = sandbox::read_proxy_health(entry->second.stats_socket);
        if (!servers) return false;  // haproxy may be reloading
        for (const sandbox::ServerHealth& server : *servers) {
          if (server.server != instance_id) continue;
          last_status = server.status + " " + server.last_check;
          if (server.status == "UP") return true;
        }
        return false;
      },
      settings.target_health, settings.poll_interval);
  if (*up) return ok_unit();
  return fail(deploy_failure(
      context, "sandbox:proxy-health",
      make_error("deploy.proxy_unhealthy",
                 fmt::format("The sandbox's load balancer proxy does not see instance {} up after {} s: {}.",
                             instance_id, settings.target_health.count(), last_status),
                 "Check that the app answers the health check path, and read its log with `hivemind logs`.")));
}

Status register_in_target_group(StageContext& context, const std::string& instance_id, const DeploySettings& settings) {
  Result<std::optional<CreatedResource>> group = find_created(context, "target_group");
  if (!group) return fail(group.error());
  if (!group->has_value()) return ok_unit();  // a worker: no load balancer
  const std::string& arn = (*group)->physical_id;

  progress(context, fmt::format("registering {} in the target group", instance_id));
  aws::AwsResult<Unit> registered = aws::elbv2::register_targets(*context.client, arn, {{instance_id, 0}});
  if (!registered) return fail(aws_failure(context, registered.error()));
  log::get("deployer")->info("registered {} in target group {}", instance_id, arn);

  return wait_target_serving(context, arn, instance_id, settings);
}

}  // namespace

Status wait_target_serving(StageContext& context, const std::string& target_group_arn, const std::string& instance_id,
                           const DeploySettings& settings) {
  if (Status healthy = wait_target_healthy(context, target_group_arn, instance_id, settings); !healthy) return healthy;
  if (context.target == Target::kSandbox) return wait_proxy_healthy(context, instance_id, settings);
  return ok_unit();
}

Status record_serving_host(StageContext& context, const std::string& version, const DeploySettings& settings) {
  Result<HostAddress> host = resolve_host(context, settings.address_map, settings.instance_resource);
  if (!host) return fail(host.error());
  return record_host_attributes(context, *host, version);
}

Status run_deploy_with(StageContext& context, const DeploySettings& settings) {
  if (!context.build) {
    return fail(deploy_failure(context, "deploy",
                               make_error("deploy.no_artifact", "The deploy stage ran without a built artifact.",
                                          "Run `hivemind retry` so that the build stage runs first.")));
  }
  Result<HostAddress> host = resolve_host(context, settings.address_map, settings.instance_resource);
  if (!host) return fail(host.error());
  progress(context, fmt::format("connecting to {} ({}@{}:{})", host->instance_id, host->user, host->host, host->port));
  Result<remote::Session> session = connect_host(context, *host, settings);
  if (!session) return fail(session.error());

  Result<remote::ReleaseRequest> request = release_request(context, *host, settings);
  if (!request) return fail(request.error());
  Result<remote::ReleaseOutcome> installed = remote::install_release(*session, *request);
  if (!installed) return fail(deploy_failure(context, "ssh:install-release", installed.error()));
  if (settings.serve) {
    if (Status saved = record_host_attributes(context, *host, request->version); !saved) return saved;
  }
  context.emit({ConductorEvent::Kind::kNote, state::StageName::deploy, kAgent,
                installed->previous_version.empty()
                    ? fmt::format("release {} runs on {}", request->version, host->instance_id)
                    : fmt::format("release {} runs on {}; {} is kept for rollback", request->version, host->instance_id,
                                  installed->previous_version)});

  if (!settings.serve) return ok_unit();
  return register_in_target_group(context, host->instance_id, settings);
}

Status run_deploy(StageContext& context) { return run_deploy_with(context, DeploySettings{}); }

Status stop_app_with(StageContext& context, const DeploySettings& settings) {
  Result<std::optional<CreatedResource>> instance = find_created(context, "instance");
  if (!instance) return fail(instance.error());
  if (!instance->has_value()) return ok_unit();  // nothing was ever started

  Result<HostAddress> host = resolve_host(context, std::chrono::seconds(0));
  if (!host) return fail(host.error());
  DeploySettings quick = settings;
  quick.ssh_attempts = 1;
  Result<remote::Session> session = connect_host(context, *host, quick);
  if (!session) return fail(session.error());

  remote::StopRequest request;
  request.app = context.deployment.app_name;
  request.base = settings.base_folder;
  request.sudo_for_systemd = host->user != "root";
  Status stopped = remote::stop_release(*session, request);
  if (!stopped) return fail(deploy_failure(context, "ssh:stop-app", stopped.error()));
  progress(context, fmt::format("stopped {} on {}", context.deployment.app_name, host->instance_id));
  return ok_unit();
}

Status stop_app(StageContext& context) { return stop_app_with(context, DeploySettings{}); }

}  // namespace hivemind::conductor
