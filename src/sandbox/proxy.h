#pragma once

// The sandbox's stand-in for ELBv2: one haproxy process (master-worker mode)
// with a frontend per listener on 127.0.0.1 and a backend per target group.
// The configuration is rewritten and haproxy reloaded (SIGUSR2 to the
// master) whenever listeners, target groups or registered targets change.
// Not thread safe: the sandbox daemon's loop is its only user.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "sandbox/haproxy_config.h"
#include "sandbox/paths.h"

namespace hivemind::sandbox {

// One server's state as haproxy's active health checks see it.
struct ServerHealth {
  std::string backend;     // "tg-<target group name>"
  std::string server;      // the instance id
  std::string status;      // haproxy's: "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (going up), "MAINT"
  std::string last_check;  // result of the last check, e.g. "L7OK", "L4CON" (refused), "L7STS" (wrong status)
};

class ProxyManager {
 public:
  ProxyManager(SandboxPaths paths, std::uint16_t base_port);

  // Returns the local port of a listener, allocating the next free port the
  // first time and the same one afterwards.
  std::uint16_t local_port(const std::string& load_balancer_name, std::uint16_t listener_port);
  // Keeps only the listeners in `keep`, so that their ports can be reused.
  void retain_ports(const std::vector<std::pair<std::string, std::uint16_t>>& keep);

  // Writes `config` and starts or reloads haproxy when it changed; stops
  // haproxy when the configuration has no frontend.
  Status apply(ProxyConfig config);
  void stop();

  std::string stats_socket() const;
  pid_t pid() const;

 private:
  Status start();
  Status reload();

  SandboxPaths paths_;
  std::uint16_t base_port_;
  std::map<std::pair<std::string, std::uint16_t>, std::uint16_t> ports_;
  std::string applied_config_;
};

// Reads every server's health from haproxy's stats socket ("show stat").
Result<std::vector<ServerHealth>> read_proxy_health(const std::string& stats_socket);

}  // namespace hivemind::sandbox
