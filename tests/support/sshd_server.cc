#include "support/sshd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hivemind::testing {
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);

sockaddr_in loopback_address(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Asks the kernel for a free port on 127.0.0.1. Another process could take
// it before sshd binds it; start() then fails with sshd's bind error.
int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback_address(0);
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("SshdServer: could not find a free port on 127.0.0.1");
  }
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address = loopback_address(port);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

std::string run_and_read(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("SshdServer: could not run " + command);
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("SshdServer: failed: " + command + "\n" + output);
  return output;
}

void write_file(const std::filesystem::path& path, const std::string& text, std::filesystem::perms perms) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, perms);
}

}  // namespace

SshdServer::SshdServer(const std::string& authorized_key, int port) {
  // sshd refuses to start without its privilege separation folder, which
  // the openssh-server package only creates when its service starts.
  ::mkdir("/run/sshd", 0755);
  std::filesystem::create_directories(scratch_folder());

  port_ = port != 0 ? port : pick_free_port();
  write_host_key();
  write_file(folder_.path() / "authorized_keys.root", authorized_key + "\n",
             std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  write_config();
  start();
}

SshdServer::~SshdServer() { stop(); }

void SshdServer::write_host_key() {
  std::filesystem::path key = folder_.path() / "host_ed25519_key";
  std::filesystem::remove(key);
  std::filesystem::remove(key.string() + ".pub");
  run_and_read("ssh-keygen -q -t ed25519 -N '' -C hivemind-test-host -f '" + key.string() + "'");
}

// StrictModes is off because the temporary folder's modes belong to the
// test, not to a user's home. AuthorizedKeysFile names the user, so that
// any other account has no key at all.
void SshdServer::write_config() {
  std::filesystem::path dir = folder_.path();
  std::ostringstream config;
  config << "ListenAddress 127.0.0.1\n"
         << "Port " << port_ << "\n"
         << "HostKey " << (dir / "host_ed25519_key").string() << "\n"
         << "PidFile " << (dir / "sshd.pid").string() << "\n"
         << "AuthorizedKeysFile " << (dir / "authorized_keys.%u").string() << "\n"
         << "UsePAM no\n"
         << "StrictModes no\n"
         << "PasswordAuthentication no\n"
         << "KbdInteractiveAuthentication no\n"
         << "PubkeyAuthentication yes\n"
         << "PermitRootLogin prohibit-password\n"
         << "AllowUsers root\n"
         << "UseDNS no\n"
         << "X11Forwarding no\n"
         << "AllowTcpForwarding no\n"
         << "Subsystem sftp internal-sftp\n"
         << "LogLevel VERBOSE\n";
  write_file(dir / "sshd_config", config.str(),
             std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void SshdServer::start() {
  std::string config = (folder_.path() / "sshd_config").string();
  std::string log = (folder_.path() / "sshd.log").string();
  pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("SshdServer: fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execl(kSshd, kSshd, "-D", "-e", "-f", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  wait_until_listening();
}

void SshdServer::wait_until_listening() {
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("SshdServer: sshd exited at start:\n" + log_text());
    }
    if (accepts_connections(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("SshdServer: sshd did not listen on 127.0.0.1:" + std::to_string(port_) + " within 10 s:\n" +
                           log_text());
}

void SshdServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

void SshdServer::restart_with_new_host_key() {
  stop();
  write_host_key();
  start();
}

std::string SshdServer::host_key_fingerprint() const {
  std::string line =
      run_and_read("ssh-keygen -l -E sha256 -f '" + (folder_.path() / "host_ed25519_key.pub").string() + "'");
  // "256 SHA256:... comment (ED25519)"
  std::istringstream words(line);
  std::string bits;
  std::string fingerprint;
  words >> bits >> fingerprint;
  return fingerprint;
}

std::string SshdServer::log_text() const {
  std::ifstream log(folder_.path() / "sshd.log");
  std::stringstream text;
  text << log.rdbuf();
  return text.str();
}

}  // namespace hivemind::testing
