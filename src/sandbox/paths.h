#pragma once

// Where the sandbox keeps its state: <state_dir>/sandbox/ contains the pids,
// logs, configuration files, each host's folder and the address map.

#include <filesystem>
#include <string>

namespace hivemind::sandbox {

struct SandboxPaths {
  std::filesystem::path root;  // <state_dir>/sandbox

  explicit SandboxPaths(const std::filesystem::path& state_dir)
      : root(std::filesystem::absolute(state_dir) / "sandbox") {}

  std::filesystem::path address_map() const { return root / "address-map.json"; }
  std::filesystem::path moto_pid() const { return root / "moto.pid"; }
  std::filesystem::path moto_log() const { return root / "moto.log"; }
  std::filesystem::path daemon_pid() const { return root / "daemon.pid"; }
  std::filesystem::path daemon_log() const { return root / "daemon.log"; }
  std::filesystem::path haproxy_dir() const { return root / "haproxy"; }
  std::filesystem::path hosts_dir() const { return root / "hosts"; }
  std::filesystem::path databases_dir() const { return root / "databases"; }
  std::filesystem::path host_dir(const std::string& instance_id) const { return hosts_dir() / instance_id; }
};

}  // namespace hivemind::sandbox
