#include "support/mariadb_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "support/fault_server.h"

namespace hivemind::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServer = "/usr/sbin/mariadbd";
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(10);

// "--user=mysql" as root, because mariadbd refuses to run as root; nothing
// otherwise.
std::vector<std::string> user_arguments() {
  if (::geteuid() != 0) return {};
  return {"--user=mysql"};
}

Result<ProcessResult> run(const std::vector<std::string>& argv, const std::string& input = {}) {
  ProcessOptions options;
  options.environment = {{"PATH", "/usr/sbin:/usr/bin:/bin"}, {"LC_ALL", "C"}};
  options.timeout = std::chrono::seconds(60);
  options.input = input;
  return run_process(argv, options);
}

bool run_checked(const std::vector<std::string>& argv, const std::string& input = {}) {
  auto result = run(argv, input);
  if (!result.ok()) {
    ADD_FAILURE() << result.error().describe();
    return false;
  }
  if (!result->succeeded()) ADD_FAILURE() << argv.front() << " failed:\n" << result->output;
  return result->succeeded();
}

}  // namespace

std::unique_ptr<MariaDbServer> MariaDbServer::start() {
  if (!fs::exists(kServer)) {
    ADD_FAILURE() << kServer << " is not installed; run scripts/setup.";
    return nullptr;
  }
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  fs::path root = server->folder_.path();
  fs::create_directories(root / "data");
  fs::create_directories(root / "run");
  if (::geteuid() == 0) {
    passwd* mysql = ::getpwnam("mysql");
    if (mysql == nullptr) {
      ADD_FAILURE() << "the mysql account is missing; run scripts/setup.";
      return nullptr;
    }
    // The server enters the temporary folder and owns its data folder and
    // the folder of its socket, pid file and error log.
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    for (const char* folder : {"data", "run"}) {
      if (::chown((root / folder).c_str(), mysql->pw_uid, mysql->pw_gid) != 0) {
        ADD_FAILURE() << "giving " << (root / folder) << " to mysql failed";
        return nullptr;
      }
    }
  }

  std::vector<std::string> install = {"mariadb-install-db", "--no-defaults", "--datadir=" + (root / "data").string(),
                                      "--auth-root-authentication-method=socket", "--skip-test-db"};
  for (const auto& argument : user_arguments()) install.push_back(argument);
  if (!run_checked(install)) return nullptr;

  server->port_ = closed_loopback_port();
  if (!server->launch() || !server->wait_until_ready() || !server->create_user()) return nullptr;
  return server;
}

bool MariaDbServer::launch() {
  fs::path root = folder_.path();
  std::vector<std::string> arguments = {kServer,
                                        "--no-defaults",
                                        "--datadir=" + (root / "data").string(),
                                        "--socket=" + (root / "run" / "mysqld.sock").string(),
                                        "--port=" + std::to_string(port_),
                                        "--bind-address=127.0.0.1",
                                        "--pid-file=" + (root / "run" / "mariadbd.pid").string(),
                                        "--log-error=" + (root / "run" / "error.log").string(),
                                        "--skip-name-resolve",
                                        "--innodb-buffer-pool-size=16M"};
  for (const auto& argument : user_arguments()) arguments.push_back(argument);
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ADD_FAILURE() << "fork failed";
    return false;
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
    }
    ::execv(kServer, argv.data());
    ::_exit(127);
  }
  return true;
}

std::string MariaDbServer::error_log() const {
  std::ifstream log(folder_.path() / "run" / "error.log");
  std::stringstream text;
  text << log.rdbuf();
  return text.str();
}

bool MariaDbServer::wait_until_ready() {
  std::string socket = "--socket=" + (folder_.path() / "run" / "mysqld.sock").string();
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "mariadbd exited at start:\n" << error_log();
      return false;
    }
    auto ping = run({"mariadb-admin", "--no-defaults", socket, "--user=root", "ping"});
    if (ping.ok() && ping->succeeded()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "mariadbd did not answer within 30 s:\n" << error_log();
  stop();
  return false;
}

bool MariaDbServer::create_user() {
  std::string sql = std::string("CREATE USER '") + kUser + "'@'%' IDENTIFIED BY '" + kPassword + "';\n" +
                    "GRANT ALL PRIVILEGES ON *.* TO '" + kUser + "'@'%';\n" + "CREATE DATABASE `" + kDatabase + "`;\n";
  // NOTE: run only as root so far. Without root, the socket login uses the
  // account's own name, which mariadb-install-db should have granted.
  std::string user = ::geteuid() == 0 ? "root" : ::getpwuid(::geteuid())->pw_name;
  return run_checked({"mariadb", "--no-defaults", "--socket=" + (folder_.path() / "run" / "mysqld.sock").string(),
                      "--user=" + user, "--batch"},
                     sql);
}

void MariaDbServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pid_ = -1;
}

MariaDbServer::~MariaDbServer() { stop(); }

}  // namespace hivemind::testing
