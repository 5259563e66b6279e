#include "sandbox/proxy.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

Result<std::string> query_socket(const std::string& path, const std::string& command) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return fail(make_error("sandbox.proxy_unreachable",
                           fmt::format("Connecting to haproxy's stats socket '{}' failed: {}.", path, reason),
                           "Check `hivemind sandbox status`; the proxy runs only while a load balancer exists."));
  }
  std::string line = command + "\n";
  (void)::write(fd, line.data(), line.size());
  std::string reply;
  char buffer[4096];
  ssize_t count = 0;
  while ((count = ::read(fd, buffer, sizeof buffer)) > 0) reply.append(buffer, static_cast<std::size_t>(count));
  ::close(fd);
  return reply;
}

}  // namespace

ProxyManager::ProxyManager(SandboxPaths paths, std::uint16_t base_port)
    : paths_(std::move(paths)), base_port_(base_port) {}

std::uint16_t ProxyManager::local_port(const std::string& load_balancer_name, std::uint16_t listener_port) {
  auto key = std::make_pair(load_balancer_name, listener_port);
  if (auto found = ports_.find(key); found != ports_.end()) return found->second;
  std::set<std::uint16_t> used;
  for (const auto& [_, port] : ports_) used.insert(port);
  std::uint16_t port = base_port_;
  while (used.count(port) != 0) ++port;
  ports_[key] = port;
  return port;
}

void ProxyManager::retain_ports(const std::vector<std::pair<std::string, std::uint16_t>>& keep) {
  std::set<std::pair<std::string, std::uint16_t>> wanted(keep.begin(), keep.end());
  std::erase_if(ports_, [&](const auto& entry) { return wanted.count(entry.first) == 0; });
}

std::string ProxyManager::stats_socket() const { return (paths_.haproxy_dir() / "stats.sock").string(); }

pid_t ProxyManager::pid() const { return read_pid_file(paths_.haproxy_dir() / "haproxy.pid"); }

Status ProxyManager::apply(ProxyConfig config) {
  config.stats_socket = stats_socket();
  if (config.frontends.empty()) {
    stop();
    return ok_unit();
  }
  std::string text = render_haproxy_config(config);
  if (text == applied_config_ && process_alive(pid())) return ok_unit();

  std::error_code error;
  fs::create_directories(paths_.haproxy_dir(), error);
  fs::path file = paths_.haproxy_dir() / "haproxy.cfg";
  fs::path candidate = paths_.haproxy_dir() / "haproxy.cfg.new";
  if (Status status = write_file_atomically(candidate, text); !status) return status;
  if (Status status = run_checked({"haproxy", "-c", "-q", "-f", candidate.string()}); !status) return status;
  fs::rename(candidate, file, error);

  Status status = process_alive(pid()) ? reload() : start();
  if (status) applied_config_ = std::move(text);
  return status;
}

Status ProxyManager::start() {
  fs::path dir = paths_.haproxy_dir();
  auto pid = spawn_detached({"haproxy", "-W", "-db", "-f", (dir / "haproxy.cfg").string()}, dir / "haproxy.log");
  if (!pid) return fail(std::move(pid).error());
  log::get("sandbox")->info("haproxy started, pid {}", *pid);

  // SIGUSR2 kills a master that has not installed its handler yet, so a
  // reload must wait until haproxy is up: its stats socket answers then.
  for (int attempt = 0; attempt < 100 && !query_socket(stats_socket(), "show info"); ++attempt) {
    ::usleep(50'000);
  }
  return write_pid_file(dir / "haproxy.pid", *pid);
}

Status ProxyManager::reload() {
  // In master-worker mode SIGUSR2 makes the master read the file again and
  // replace its workers; open connections finish on the old ones.
  if (::kill(pid(), SIGUSR2) != 0) {
    return fail(make_error("sandbox.proxy_reload_failed", fmt::format("Reloading haproxy (pid {}) failed.", pid())));
  }
  log::get("sandbox")->info("haproxy reloaded");
  return ok_unit();
}

void ProxyManager::stop() {
  pid_t current = pid();
  if (current > 0) {
    stop_process_group(current);
    log::get("sandbox")->info("haproxy stopped");
  }
  std::error_code error;
  fs::remove(paths_.haproxy_dir() / "haproxy.pid", error);
  applied_config_.clear();
}

Result<std::vector<ServerHealth>> read_proxy_health(const std::string& stats_socket) {
  auto reply = query_socket(stats_socket, "show stat");
  if (!reply) return fail(std::move(reply).error());

  // CSV: "# pxname,svname,qcur,...", where columns 17 and 36 (from 0) are
  // "status" and "check_status".
  std::vector<ServerHealth> servers;
  for (const std::string& line : split(*reply, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = split(line, ',');
    if (fields.size() < 37 || fields[1] == "FRONTEND" || fields[1] == "BACKEND") continue;
    servers.push_back(ServerHealth{fields[0], fields[1], fields[17], fields[36]});
  }
  return servers;
}

}  // namespace hivemind::sandbox
