#include "support/postgres_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/process.h"
#include "support/fault_server.h"

namespace hivemind::testing {
namespace {

constexpr const char* kBinaries = "/usr/lib/postgresql/15/bin";

// Runs a PostgreSQL program as the user "postgres".
bool run_as_postgres(const std::vector<std::string>& arguments, std::chrono::seconds timeout) {
  std::vector<std::string> argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  ProcessOptions options;
  options.environment = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}};
  options.timeout = timeout;
  auto result = run_process(argv, options);
  if (!result.ok()) {
    ADD_FAILURE() << result.error().describe();
    return false;
  }
  if (!result->succeeded()) ADD_FAILURE() << arguments.front() << " failed:\n" << result->output;
  return result->succeeded();
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::start() {
  if (!std::filesystem::exists(std::string(kBinaries) + "/initdb")) {
    ADD_FAILURE() << "PostgreSQL 15 is not installed under " << kBinaries << "; run scripts/setup.";
    return nullptr;
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  std::filesystem::path root = server->folder_.path();
  std::filesystem::permissions(root, std::filesystem::perms::all);
  server->data_dir_ = (root / "data").string();
  std::filesystem::path password_file = root / "password";
  std::ofstream(password_file) << kPassword << "\n";
  std::filesystem::permissions(password_file, std::filesystem::perms::owner_read | std::filesystem::perms::others_read);

  if (!run_as_postgres({std::string(kBinaries) + "/initdb", "-D", server->data_dir_, "-U", kUser,
                        "--auth=scram-sha-256", "--pwfile=" + password_file.string(), "--no-sync"},
                       std::chrono::seconds(60))) {
    return nullptr;
  }

  server->port_ = closed_loopback_port();
  std::string server_options = fmt::format("-h 127.0.0.1 -p {} -k {} -c fsync=off", server->port_, root.string());
  if (!run_as_postgres({std::string(kBinaries) + "/pg_ctl", "-D", server->data_dir_, "-o", server_options, "-l",
                        (root / "server.log").string(), "-w", "-t", "30", "start"},
                       std::chrono::seconds(40))) {
    return nullptr;
  }
  server->running_ = true;
  return server;
}

PostgresServer::~PostgresServer() {
  if (running_) {
    run_as_postgres({std::string(kBinaries) + "/pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "-t", "20", "stop"},
                    std::chrono::seconds(30));
  }
}

}  // namespace hivemind::testing
