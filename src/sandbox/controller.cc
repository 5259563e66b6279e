#include "sandbox/controller.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "aws/curl_transport.h"
#include "common/log.h"
#include "sandbox/database.h"
#include "sandbox/host.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Waits up to `limit` for `ready` to return true.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return ready();
}

bool moto_answers(const std::string& endpoint) {
  auto result = run_command({"curl", "-s", "-o", "/dev/null", "--max-time", "2", endpoint + "/moto-api/"});
  return result && result->exit_code == 0;
}

Status start_moto(const SandboxPaths& paths, std::uint16_t port, const std::string& endpoint) {
  if (moto_answers(endpoint)) {
    return fail(make_error("sandbox.port_in_use", fmt::format("Something already answers at {}.", endpoint),
                           "Pass another port with --moto-port, or stop what runs there."));
  }
  auto pid = spawn_detached({"moto_server", "-H", "127.0.0.1", "-p", std::to_string(port)}, paths.moto_log());
  if (!pid) return fail(std::move(pid).error());
  if (Status status = write_pid_file(paths.moto_pid(), *pid); !status) return status;
  if (!wait_until([&] { return moto_answers(endpoint); }, 30s)) {
    stop_process_group(*pid);
    return fail(make_error("sandbox.moto_failed", fmt::format("moto_server did not answer at {}.", endpoint),
                           fmt::format("Read {}.", paths.moto_log().string())));
  }
  return ok_unit();
}

Status start_daemon(const UpRequest& request, const SandboxPaths& paths) {
  const SandboxSettings& settings = request.settings;
  auto pid = spawn_detached(
      {request.daemon_program.string(), "--state-dir", request.state_dir.string(), "--region", settings.region,
       "sandbox", "run", "--moto-port", std::to_string(request.moto_port), "--proxy-base-port",
       std::to_string(settings.proxy_base_port), "--database-base-port", std::to_string(settings.database_base_port)},
      paths.daemon_log());
  if (!pid) return fail(std::move(pid).error());
  if (Status status = write_pid_file(paths.daemon_pid(), *pid); !status) return status;
  if (!wait_until([&] { return fs::exists(paths.address_map()); }, 20s)) {
    return fail(make_error("sandbox.daemon_failed", "The sandbox daemon did not write the address map.",
                           fmt::format("Read {}.", paths.daemon_log().string())));
  }
  return ok_unit();
}

// Tears down every host and database folder, whichever process made them.
void tear_down_leftovers(const SandboxPaths& paths) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(paths.hosts_dir(), error)) {
    (void)destroy_host(paths, entry.path().filename().string());
  }
  for (const auto& entry : fs::directory_iterator(paths.databases_dir(), error)) (void)remove_database(entry.path());
  ProxyManager(paths, kDefaultProxyBasePort).stop();
}

}  // namespace

Status require_root(const std::string& command) {
  if (::geteuid() == 0) return ok_unit();
  return fail(make_error("sandbox.needs_root",
                         "The sandbox needs root: it creates network namespaces, a bridge, mounts and an account.",
                         fmt::format("Run: sudo {}", command)));
}

Status sandbox_up(const UpRequest& request, const ProgressCallback& progress) {
  SandboxPaths paths(request.state_dir);
  if (process_alive(read_pid_file(paths.daemon_pid()))) {
    return fail(make_error("sandbox.already_running", "The sandbox is already running for this state folder.",
                           "See `hivemind sandbox status`, or stop it with `hivemind sandbox down`."));
  }
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  std::error_code error;
  fs::create_directories(paths.root, error);

  progress("Creating the bridge " + std::string(kBridgeName) + " and the " + kHostUser + " account");
  if (Status status = ensure_bridge(); !status) return status;
  if (Status status = ensure_host_user(); !status) return status;

  progress("Starting moto_server at " + request.settings.moto_endpoint);
  if (Status status = start_moto(paths, request.moto_port, request.settings.moto_endpoint); !status) return status;

  progress("Starting the sandbox daemon");
  if (Status status = start_daemon(request, paths); !status) {
    stop_process_group(read_pid_file(paths.moto_pid()));
    return status;
  }
  return ok_unit();
}

Status sandbox_down(const SandboxPaths& paths, const ProgressCallback& progress) {
  pid_t daemon = read_pid_file(paths.daemon_pid());
  if (daemon > 0) {
    progress("Stopping the sandbox daemon");
    // The daemon tears its resources down on SIGTERM; give it time for that.
    stop_process_group(daemon, 30'000);
  }
  progress("Tearing down hosts, proxies and databases");
  tear_down_leftovers(paths);

  pid_t moto = read_pid_file(paths.moto_pid());
  if (moto > 0) {
    progress("Stopping moto_server");
    stop_process_group(moto);
  }
  if (Status status = remove_bridge(); !status) return status;

  std::error_code error;
  for (const fs::path& file :
       {paths.daemon_pid(), paths.moto_pid(), paths.address_map()}) {
    fs::remove(file, error);
  }
  return ok_unit();
}

SandboxStatus sandbox_status(const SandboxPaths& paths) {
  SandboxStatus status;
  status.moto_pid = read_pid_file(paths.moto_pid());
  status.moto_running = process_alive(status.moto_pid);
  status.daemon_pid = read_pid_file(paths.daemon_pid());
  status.daemon_running = process_alive(status.daemon_pid);
  status.proxy_pid = read_pid_file(paths.haproxy_dir() / "haproxy.pid");
  if (auto map = read_address_map(paths.address_map()); map) status.map = std::move(map).value();
  if (status.map && !status.map->load_balancers.empty()) {
    auto health = read_proxy_health(status.map->load_balancers.begin()->second.stats_socket);
    if (health) status.proxy_health = std::move(health).value();
  }
  return status;
}

void run_daemon(const SandboxPaths& paths, const SandboxSettings& settings, const std::atomic<bool>& stop,
                std::chrono::milliseconds interval) {
  auto logger = log::get("sandbox");
  logger->info("sandbox daemon started, watching {} in {}", settings.moto_endpoint, settings.region);
  aws::AwsClient client(sandbox_client_config(settings), std::make_shared<aws::CurlTransport>());
  Reconciler reconciler(paths, settings, client);

  std::string last_error;
  while (!stop.load()) {
    Status status = reconciler.reconcile_once();
    std::string message = status ? std::string() : status.error().describe();
    // A failure repeats every pass until it is fixed; log it when it changes.
    if (message != last_error && !message.empty()) logger->error("reconcile failed: {}", message);
    if (message != last_error && message.empty()) logger->info("reconcile recovered");
    last_error = message;
    for (auto slept = 0ms; slept < interval && !stop.load(); slept += 50ms) std::this_thread::sleep_for(50ms);
  }

  logger->info("sandbox daemon stopping; tearing everything down");
  reconciler.teardown();
}

}  // namespace hivemind::sandbox
