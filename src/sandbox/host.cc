#include "sandbox/host.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

std::string short_id(const std::string& instance_id) {
  return instance_id.size() <= 8 ? instance_id : instance_id.substr(instance_id.size() - 8);
}

bool link_exists(const std::string& name) {
  auto result = run_command({"ip", "link", "show", "dev", name});
  return result && result->exit_code == 0;
}

// Returns whether something accepts TCP connections at address:port.
bool tcp_port_open(const std::string& address, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &target.sin_addr);
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
  ::close(fd);
  return open;
}

Status wait_for_port(const std::string& address, std::uint16_t port, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (tcp_port_open(address, port)) return ok_unit();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fail(make_error("sandbox.host_timeout",
                         fmt::format("sshd at {}:{} did not accept connections.", address, port),
                         "Read the host's sshd.log under <state_dir>/sandbox/hosts/."));
}

Status create_network(const HostSpec& spec) {
  std::string ns = namespace_name(spec.instance_id);
  std::string veth = veth_name(spec.instance_id);
  std::string peer = "hmp-" + short_id(spec.instance_id);
  std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", ns},
      {"ip", "link", "add", veth, "type", "veth", "peer", "name", peer},
      {"ip", "link", "set", peer, "netns", ns},
      {"ip", "-n", ns, "link", "set", peer, "name", "eth0"},
      {"ip", "-n", ns, "addr", "add", spec.address + "/24", "dev", "eth0"},
      {"ip", "-n", ns, "link", "set", "eth0", "up"},
      {"ip", "-n", ns, "link", "set", "lo", "up"},
      {"ip", "-n", ns, "route", "add", "default", "via", kBridgeAddress},
      {"ip", "link", "set", veth, "master", kBridgeName},
      {"ip", "link", "set", veth, "up"},
  };
  for (const auto& step : steps) {
    if (Status status = run_checked(step); !status) return status;
  }
  return ok_unit();
}

Status write_text(const fs::path& file, const std::string& text, fs::perms permissions) {
  if (Status status = write_file_atomically(file, text); !status) return status;
  std::error_code error;
  fs::permissions(file, permissions, error);
  return ok_unit();
}

Status chown_to_host_user(const fs::path& path) {
  passwd* user = ::getpwnam(kHostUser);
  if (user == nullptr || ::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    return fail(make_error("sandbox.chown_failed", fmt::format("Giving '{}' to {} failed.", path.string(), kHostUser)));
  }
  return ok_unit();
}

// Writes the folders that the host mounts as /etc/ssh (sshd_config and an
// empty sshd_config.d) and /etc/sudoers.d (the ec2-user rule). sudo ignores
// a sudoers file that is writable by anyone but root.
Status prepare_etc(const fs::path& dir, const HostSpec& spec) {
  std::error_code error;
  fs::create_directories(dir / "etc-ssh" / "sshd_config.d", error);
  if (!error) fs::create_directories(dir / "sudoers.d", error);
  if (error) {
    return fail(make_error("sandbox.mkdir_failed", fmt::format("Creating the /etc folders under '{}' failed: {}.",
                                                               dir.string(), error.message())));
  }
  Status status = write_text(dir / "etc-ssh" / "sshd_config", render_sshd_config(spec.address, dir.string()),
                             fs::perms::owner_read | fs::perms::owner_write);
  if (!status) return status;
  return write_text(dir / "sudoers.d" / kHostUser, render_sudoers(dir.string()),
                    fs::perms::owner_read | fs::perms::group_read);
}

// Lays out the host's folder: its /opt/hivemind, host key, authorized keys,
// sshd configuration and sudo rule.
Status prepare_host_dir(const SandboxPaths& paths, const HostSpec& spec) {
  fs::path dir = paths.host_dir(spec.instance_id);
  std::error_code error;
  fs::create_directories(dir / "opt", error);
  if (error) {
    return fail(
        make_error("sandbox.mkdir_failed", fmt::format("Creating '{}' failed: {}.", dir.string(), error.message())));
  }
  if (Status status = chown_to_host_user(dir / "opt"); !status) return status;

  fs::path key = dir / "ssh_host_ed25519_key";
  if (!fs::exists(key)) {
    Status status =
        run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", spec.instance_id, "-f", key.string()});
    if (!status) return status;
  }
  if (Status status =
          write_text(dir / "authorized_keys", spec.public_key + "\n",
                     fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
      !status) {
    return status;
  }
  return prepare_etc(dir, spec);
}

// Starts sshd inside the namespace, in a private mount namespace where the
// host's folders are bind-mounted on /opt/hivemind, /etc/ssh and, when sudo
// is installed, /etc/sudoers.d.
Result<pid_t> start_sshd(const SandboxPaths& paths, const HostSpec& spec) {
  fs::path dir = paths.host_dir(spec.instance_id);
  std::error_code error;
  fs::create_directories("/opt/hivemind", error);
  fs::create_directories("/run/sshd", error);
  const char* script =
      "mount --bind \"$0\" /opt/hivemind && mount --bind \"$1\" /etc/ssh &&"
      " { [ ! -d /etc/sudoers.d ] || mount --bind \"$2\" /etc/sudoers.d; } &&"
      " exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config";
  return spawn_detached(
      {"ip", "netns", "exec", namespace_name(spec.instance_id), "unshare", "--mount", "--propagation", "private", "sh",
       "-c", script, (dir / "opt").string(), (dir / "etc-ssh").string(), (dir / "sudoers.d").string()},
      dir / "sshd.log");
}

// Escapes the characters that sudoers gives a meaning inside a command's
// arguments.
std::string sudoers_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == ',' || c == ':' || c == '=' || c == '\\' || c == ' ') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

std::string namespace_name(const std::string& instance_id) { return "hm-" + short_id(instance_id); }

std::string veth_name(const std::string& instance_id) { return "hmv-" + short_id(instance_id); }

std::string render_sshd_config(const std::string& address, const std::string& host_dir) {
  std::string out;
  // sshd keeps the first value it reads, so drop-in files override the
  // settings below, as with Debian 12's own sshd_config.
  out += "Include /etc/ssh/sshd_config.d/*.conf\n";
  out += fmt::format("ListenAddress {}:22\n", address);
  out += fmt::format("HostKey {}/ssh_host_ed25519_key\n", host_dir);
  out += fmt::format("PidFile {}/sshd.pid\n", host_dir);
  // sshd reads an AuthorizedKeysFile as the user, who cannot enter a state
  // folder that only root may read; a command run as root can.
  out += "AuthorizedKeysFile none\n";
  out += fmt::format("AuthorizedKeysCommand /bin/cat {}/authorized_keys\n", host_dir);
  out += "AuthorizedKeysCommandUser root\n";
  out += "PasswordAuthentication no\n";
  out += "KbdInteractiveAuthentication no\n";
  out += "PermitRootLogin no\n";
  out += fmt::format("AllowUsers {}\n", kHostUser);
  // The state folder may sit under a world-writable folder such as /tmp,
  // which sshd's ownership checks of the key file's parents would reject.
  out += "StrictModes no\n";
  out += "UsePAM no\n";
  out += "Subsystem sftp internal-sftp\n";
  return out;
}

std::string render_sudoers(const std::string& host_dir) {
  std::string pid_file = sudoers_escape(host_dir + "/sshd.pid");
  std::string out;
  out += "# Written by the HiveMind sandbox; seen only inside this host's mount namespace.\n";
  out += fmt::format("Defaults:{} !lecture\n", kHostUser);
  out += fmt::format(
      "{} ALL=(root) NOPASSWD: /usr/sbin/sshd -T, /usr/sbin/sshd -t, "
      "/usr/bin/tee /etc/ssh/sshd_config.d/00-hivemind.conf, /usr/bin/pkill -HUP -F {}\n",
      kHostUser, pid_file);
  return out;
}

Status ensure_bridge() {
  if (link_exists(kBridgeName)) return ok_unit();
  if (Status status = run_checked({"ip", "link", "add", kBridgeName, "type", "bridge"}); !status) return status;
  if (Status status = run_checked({"ip", "addr", "add", std::string(kBridgeAddress) + "/24", "dev", kBridgeName});
      !status) {
    return status;
  }
  return run_checked({"ip", "link", "set", kBridgeName, "up"});
}

Status remove_bridge() {
  if (!link_exists(kBridgeName)) return ok_unit();
  return run_checked({"ip", "link", "del", kBridgeName});
}

Status ensure_host_user() {
  if (::getpwnam(kHostUser) == nullptr) {
    if (Status status = run_checked({"useradd", "--create-home", "--shell", "/bin/bash", kHostUser}); !status) {
      return status;
    }
  }
  // sshd refuses every login, keys included, to an account whose password
  // field starts with '!' (locked); '*' means no password can match.
  return run_checked({"usermod", "--password", "*", kHostUser});
}

Status remove_host_user() {
  if (::getpwnam(kHostUser) == nullptr) return ok_unit();
  return run_checked({"userdel", "--remove", kHostUser});
}

Status create_host(const SandboxPaths& paths, const HostSpec& spec) {
  auto logger = log::get("sandbox");
  logger->info("creating host {} at {}", spec.instance_id, spec.address);

  Status status = create_network(spec);
  if (status) status = prepare_host_dir(paths, spec);
  if (status) {
    auto pid = start_sshd(paths, spec);
    if (!pid) status = fail(std::move(pid).error());
  }
  if (status) status = wait_for_port(spec.address, 22, std::chrono::seconds(10));

  if (!status) {
    logger->error("creating host {} failed: {}", spec.instance_id, status.error().describe());
    (void)destroy_host(paths, spec.instance_id);
  }
  return status;
}

std::vector<pid_t> namespace_pids(const std::string& namespace_name) {
  std::vector<pid_t> pids;
  auto result = run_command({"ip", "netns", "pids", namespace_name});
  if (!result || result->exit_code != 0) return pids;
  for (const std::string& line : split(result->output, '\n')) {
    if (!line.empty()) pids.push_back(static_cast<pid_t>(std::stol(line)));
  }
  return pids;
}

Status destroy_host(const SandboxPaths& paths, const std::string& instance_id) {
  auto logger = log::get("sandbox");
  std::string ns = namespace_name(instance_id);

  // New processes can appear while we kill (an SSH session forking), so
  // repeat until the namespace is empty.
  for (int round = 0; round < 20; ++round) {
    std::vector<pid_t> pids = namespace_pids(ns);
    if (pids.empty()) break;
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  if (fs::exists(fs::path("/run/netns") / ns)) {
    if (Status status = run_checked({"ip", "netns", "del", ns}); !status) return status;
  }
  if (link_exists(veth_name(instance_id))) (void)run_command({"ip", "link", "del", veth_name(instance_id)});

  std::error_code error;
  fs::remove_all(paths.host_dir(instance_id), error);
  if (error) {
    return fail(make_error("sandbox.remove_failed",
                           fmt::format("Removing host folder of {} failed: {}.", instance_id, error.message())));
  }
  logger->info("host {} torn down", instance_id);
  return ok_unit();
}

bool host_exists(const std::string& instance_id) {
  return fs::exists(fs::path("/run/netns") / namespace_name(instance_id));
}

}  // namespace hivemind::sandbox
