#pragma once

// Sandbox hosts: each running EC2 instance in moto becomes a real Linux host
// on this machine. A host is a network namespace hm-<short id> joined by a
// veth pair to the bridge hm-br0 (198.18.0.1/24, RFC 2544's benchmarking
// range, which exists only inside the sandbox), running OpenSSH's sshd in a
// private mount namespace where /opt/hivemind, /etc/ssh and /etc/sudoers.d
// are the host's own folders. Everything started over SSH runs in that
// namespace too, so a change to the host's sshd configuration or sudo rules
// stays on that host and never reaches this machine's /etc.
//
// Needs root. Functions are not safe to call concurrently for one host.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/paths.h"

namespace hivemind::sandbox {

inline constexpr const char* kBridgeName = "hm-br0";
inline constexpr const char* kBridgeAddress = "198.18.0.1";
inline constexpr const char* kHostUser = "ec2-user";  // Amazon Linux's default user
inline constexpr int kFirstHostOctet = 10;
inline constexpr int kLastHostOctet = 250;

struct HostSpec {
  std::string instance_id;
  std::string address;     // 198.18.0.N
  std::string public_key;  // OpenSSH public key line of the instance's key pair
};

// The network namespace's name: "hm-" and the last 8 characters of the id.
std::string namespace_name(const std::string& instance_id);
// The machine side of the host's veth pair: "hmv-" and the same 8 characters.
std::string veth_name(const std::string& instance_id);

// Returns the sshd_config text of a host, a pure function for tests. It
// includes /etc/ssh/sshd_config.d/*.conf before its own settings, as
// Debian 12's sshd_config does.
std::string render_sshd_config(const std::string& address, const std::string& host_dir);

// Returns the host's sudoers rule for ec2-user, a pure function for tests.
// On EC2 the default user may run anything as root. A sandbox host's root is
// this machine's root, so the rule allows only the commands of the secure
// stage's sshd hardening, with exact arguments: `sshd -T`, `sshd -t`, `tee`
// of /etc/ssh/sshd_config.d/00-hivemind.conf, and SIGHUP to the host's sshd.
std::string render_sudoers(const std::string& host_dir);

// Creates the bridge with its address, unless it exists.
Status ensure_bridge();
// Deletes the bridge; no error when it is missing.
Status remove_bridge();

// Creates the ec2-user account (shell, home, no password) unless it exists.
Status ensure_host_user();

// Deletes the ec2-user account and its home; no error when it is missing.
Status remove_host_user();

// Builds the host: namespace, veth, address, folders, host key, sshd. Waits
// until sshd accepts TCP connections. On failure, tears down what it made.
Status create_host(const SandboxPaths& paths, const HostSpec& spec);

// Kills every process in the host's namespace, deletes the namespace and
// the veth, and removes the host's folder. Safe on a half-made or missing host.
Status destroy_host(const SandboxPaths& paths, const std::string& instance_id);

// Returns whether the host's namespace exists.
bool host_exists(const std::string& instance_id);

// Returns the pids of the processes in a network namespace.
std::vector<pid_t> namespace_pids(const std::string& namespace_name);

}  // namespace hivemind::sandbox
