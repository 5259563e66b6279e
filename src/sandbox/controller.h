#pragma once

// `hivemind sandbox up | down | status` and the daemon behind them. `up`
// starts moto_server on 127.0.0.1 and the sandbox daemon (this binary's
// hidden `sandbox run`), each detached in its own process group with its
// pid and log under <state_dir>/sandbox/. The daemon polls moto and keeps
// the hosts, proxies, databases and address map in step. `down` stops both
// and tears down whatever is left, even after a crash of the daemon.

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/address_map.h"
#include "sandbox/paths.h"
#include "sandbox/proxy.h"
#include "sandbox/reconciler.h"

namespace hivemind::sandbox {

// Receives one short progress line for the user per step.
using ProgressCallback = std::function<void(const std::string&)>;

struct UpRequest {
  std::filesystem::path state_dir;
  std::uint16_t moto_port = kDefaultMotoPort;
  SandboxSettings settings;              // moto_endpoint is filled in from moto_port
  std::filesystem::path daemon_program;  // the hivemind binary, started as `sandbox run`
};

struct SandboxStatus {
  pid_t moto_pid = 0;
  bool moto_running = false;
  pid_t daemon_pid = 0;
  bool daemon_running = false;
  pid_t proxy_pid = 0;
  std::optional<AddressMap> map;
  std::vector<ServerHealth> proxy_health;
};

// Fails with the command to run when this process is not root.
Status require_root(const std::string& command);

Status sandbox_up(const UpRequest& request, const ProgressCallback& progress);
Status sandbox_down(const SandboxPaths& paths, const ProgressCallback& progress);
SandboxStatus sandbox_status(const SandboxPaths& paths);

// Runs the daemon's loop until `stop` is set: one reconcile pass every
// `interval`, then a teardown of everything it made.
void run_daemon(const SandboxPaths& paths, const SandboxSettings& settings, const std::atomic<bool>& stop,
                std::chrono::milliseconds interval = std::chrono::milliseconds(700));

}  // namespace hivemind::sandbox
