// `hivemind sandbox up | down | status`: a local rehearsal of AWS in which
// `hivemind deploy` really runs (see docs/SANDBOX.md), and the hidden
// `sandbox run` that is the sandbox daemon.

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "common/log.h"
#include "sandbox/controller.h"

namespace hivemind::cli {
namespace {

namespace sandbox = hivemind::sandbox;

std::atomic<bool> daemon_stop{false};

void request_daemon_stop(int) { daemon_stop.store(true); }

struct SandboxOptions {
  std::uint16_t moto_port = sandbox::kDefaultMotoPort;
  std::uint16_t proxy_base_port = sandbox::kDefaultProxyBasePort;
  std::uint16_t database_base_port = sandbox::kDefaultDatabaseBasePort;
};

sandbox::SandboxSettings settings_from(const GlobalOptions& global, const SandboxOptions& options) {
  sandbox::SandboxSettings settings;
  settings.moto_endpoint = fmt::format("http://127.0.0.1:{}", options.moto_port);
  if (!global.region.empty()) settings.region = global.region;
  settings.proxy_base_port = options.proxy_base_port;
  settings.database_base_port = options.database_base_port;
  return settings;
}

int report_failure(const std::string& command, const Error& error) {
  std::cerr << "hivemind sandbox " << command << ": " << error.describe() << "\n";
  return kExitFailure;
}

int run_up(const GlobalOptions& global, const SandboxOptions& options) {
  if (Status root = sandbox::require_root("hivemind --state-dir " + global.state_dir + " sandbox up"); !root) {
    return report_failure("up", root.error());
  }
  sandbox::UpRequest request;
  request.state_dir = std::filesystem::absolute(global.state_dir);
  request.moto_port = options.moto_port;
  request.settings = settings_from(global, options);
  request.daemon_program = std::filesystem::read_symlink("/proc/self/exe");

  Status status = sandbox::sandbox_up(request, [](const std::string& line) { std::cout << "  " << line << "\n"; });
  if (!status) return report_failure("up", status.error());

  sandbox::SandboxPaths paths(request.state_dir);
  std::cout << "Sandbox running. Point HiveMind at it with:\n"
            << "  export AWS_ENDPOINT_URL=" << request.settings.moto_endpoint << "\n"
            << "Address map: " << paths.address_map().string() << "\n";
  return kExitSuccess;
}

int run_down(const GlobalOptions& global) {
  if (Status root = sandbox::require_root("hivemind --state-dir " + global.state_dir + " sandbox down"); !root) {
    return report_failure("down", root.error());
  }
  sandbox::SandboxPaths paths(global.state_dir);
  Status status = sandbox::sandbox_down(paths, [](const std::string& line) { std::cout << "  " << line << "\n"; });
  if (!status) return report_failure("down", status.error());
  std::cout << "Sandbox stopped; every host, proxy and database is gone.\n";
  return kExitSuccess;
}

nlohmann::json status_to_json(const sandbox::SandboxStatus& status) {
  nlohmann::json health = nlohmann::json::array();
  for (const auto& server : status.proxy_health) {
    health.push_back({{"backend", server.backend},
                      {"server", server.server},
                      {"status", server.status},
                      {"last_check", server.last_check}});
  }
  nlohmann::json out{{"moto", {{"pid", status.moto_pid}, {"running", status.moto_running}}},
                     {"daemon", {{"pid", status.daemon_pid}, {"running", status.daemon_running}}},
                     {"proxy", {{"pid", status.proxy_pid}, {"health", health}}}};
  if (status.map) out["address_map"] = nlohmann::json::parse(sandbox::address_map_to_json(*status.map));
  return out;
}

// Returns "pid 123 running", "pid 123 stopped", or "not running" when the pid
// file is missing or contains no valid pid (read_pid_file returns 0 then).
std::string process_state(pid_t pid, bool running) {
  if (pid <= 0) return "not running";
  return fmt::format("pid {} {}", pid, running ? "running" : "stopped");
}

void print_status_text(const sandbox::SandboxStatus& status, const std::string& state_dir) {
  std::cout << fmt::format("moto_server  {}{}\n", process_state(status.moto_pid, status.moto_running),
                           status.map ? " at " + status.map->moto_endpoint : "");
  std::cout << fmt::format("daemon       {}\n", process_state(status.daemon_pid, status.daemon_running));
  if (!status.moto_running && !status.daemon_running) {
    std::cout << fmt::format(
        "The sandbox of {} is not running. Start it with `hivemind --state-dir {} sandbox up` "
        "(as root).\n",
        state_dir, state_dir);
  }
  if (!status.map) return;
  for (const auto& [id, host] : status.map->hosts) {
    std::cout << fmt::format("host         {}  ssh {}@{}:{}\n", id, host.ssh_user, host.ssh_host, host.ssh_port);
  }
  for (const auto& [dns, balancer] : status.map->load_balancers) {
    for (const auto& [port, endpoint] : balancer.listeners) {
      std::cout << fmt::format("proxy        {}:{} -> {}\n", dns, port, endpoint.to_string());
    }
  }
  for (const auto& server : status.proxy_health) {
    std::cout << fmt::format("  target     {} in {}: {} ({})\n", server.server, server.backend, server.status,
                             server.last_check);
  }
  for (const auto& [endpoint, database] : status.map->databases) {
    std::cout << fmt::format("database     {} ({}) {} -> {}\n", database.instance_id, database.engine, endpoint,
                             database.local.to_string());
  }
}

int run_status(const GlobalOptions& global) {
  sandbox::SandboxStatus status = sandbox::sandbox_status(sandbox::SandboxPaths(global.state_dir));
  if (global.json) {
    std::cout << status_to_json(status).dump(2) << "\n";
  } else {
    print_status_text(status, global.state_dir);
  }
  return status.daemon_running && status.moto_running ? kExitSuccess : kExitFailure;
}

int run_daemon(const GlobalOptions& global, const SandboxOptions& options) {
  log::configure_stderr(global.verbose ? spdlog::level::debug : spdlog::level::info);
  std::signal(SIGTERM, request_daemon_stop);
  std::signal(SIGINT, request_daemon_stop);
  sandbox::run_daemon(sandbox::SandboxPaths(global.state_dir), settings_from(global, options), daemon_stop);
  return kExitSuccess;
}

void add_port_options(CLI::App& command, SandboxOptions& options) {
  command.add_option("--moto-port", options.moto_port, "Port of moto_server on 127.0.0.1")->capture_default_str();
  command.add_option("--proxy-base-port", options.proxy_base_port, "First 127.0.0.1 port for load balancer listeners")
      ->capture_default_str();
  command.add_option("--database-base-port", options.database_base_port, "First 127.0.0.1 port for database servers")
      ->capture_default_str();
}

}  // namespace

void add_sandbox_command(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("sandbox", "Run a local rehearsal of AWS (needs root): up, down, status");
  command->require_subcommand(1);
  auto options = std::make_shared<SandboxOptions>();
  GlobalOptions& global = context.global;

  CLI::App* up = command->add_subcommand("up", "Start moto_server and the sandbox daemon");
  add_port_options(*up, *options);
  up->callback(
      [&context, &global, options] { context.action = [&global, options] { return run_up(global, *options); }; });

  CLI::App* down = command->add_subcommand("down", "Stop the sandbox and tear down every host, proxy and database");
  down->callback([&context, &global] { context.action = [&global] { return run_down(global); }; });

  CLI::App* status = command->add_subcommand("status", "Show moto, the daemon, hosts, proxies and databases");
  status->callback([&context, &global] { context.action = [&global] { return run_status(global); }; });

  // The daemon itself, which `up` starts. An empty group hides it from --help.
  CLI::App* run = command->add_subcommand("run", "Run the sandbox daemon in the foreground")->group("");
  add_port_options(*run, *options);
  run->callback(
      [&context, &global, options] { context.action = [&global, options] { return run_daemon(global, *options); }; });
}

}  // namespace hivemind::cli
