#include "sandbox/mariadb.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/log.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMysqlUser = "mysql";
constexpr const char* kServer = "/usr/sbin/mariadbd";
constexpr auto kStartLimit = std::chrono::seconds(30);

fs::path socket_file(const fs::path& dir) { return dir / "mysqld.sock"; }
fs::path pid_file(const fs::path& dir) { return dir / "server.pid"; }

Status give_to_mysql(const fs::path& path) {
  passwd* user = ::getpwnam(kMysqlUser);
  if (user == nullptr || ::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    return fail(make_error("sandbox.chown_failed", fmt::format("Giving '{}' to {} failed.", path.string(), kMysqlUser),
                           "Install MariaDB with scripts/setup, which creates the mysql account."));
  }
  return ok_unit();
}

// The server's system tables, with root@localhost allowed only through the
// Unix socket as the operating-system root, and no anonymous users.
Status install_data_dir(const fs::path& dir) {
  return run_checked({"mariadb-install-db", "--no-defaults", "--datadir=" + (dir / "data").string(),
                      "--user=" + std::string(kMysqlUser), "--auth-root-authentication-method=socket",
                      "--skip-test-db"});
}

bool server_answers(const fs::path& dir) {
  auto ping =
      run_command({"mariadb-admin", "--no-defaults", "--socket=" + socket_file(dir).string(), "--user=root", "ping"});
  return ping && ping->exit_code == 0;
}

Status launch_server(const fs::path& dir, const DatabaseSpec& spec, const std::vector<std::string>& bind_addresses) {
  std::string addresses;
  for (const auto& address : bind_addresses) addresses += (addresses.empty() ? "" : ",") + address;
  auto pid = spawn_detached(
      {kServer, "--no-defaults", "--datadir=" + (dir / "data").string(), "--user=" + std::string(kMysqlUser),
       "--socket=" + socket_file(dir).string(), "--port=" + std::to_string(spec.port), "--bind-address=" + addresses,
       "--pid-file=" + (dir / "mariadbd.pid").string(), "--log-error=" + (dir / "error.log").string(),
       "--skip-name-resolve"},
      dir / "mariadbd.out");
  if (!pid) return fail(std::move(pid).error());
  if (Status status = write_pid_file(pid_file(dir), *pid); !status) return status;

  auto deadline = std::chrono::steady_clock::now() + kStartLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (server_answers(dir)) return ok_unit();
    if (!process_alive(*pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop_mariadb(dir);
  return fail(
      make_error("sandbox.mariadb_not_started",
                 fmt::format("MariaDB for DB instance {} did not start on port {}.", spec.instance_id, spec.port),
                 fmt::format("Read {}; the port may be taken.", (dir / "error.log").string())));
}

// Idempotent, so that a restarted daemon can run it again. The password
// goes to the client on standard input, never in its arguments.
Status create_master_user(const fs::path& dir, const DatabaseSpec& spec) {
  std::string user = fmt::format("{}@'%'", mariadb_literal(spec.master_username));
  std::string sql = fmt::format(
      "CREATE USER IF NOT EXISTS {0} IDENTIFIED BY {1};\n"
      "ALTER USER {0} IDENTIFIED BY {1};\n"
      "GRANT ALL PRIVILEGES ON *.* TO {0} WITH GRANT OPTION;\n",
      user, mariadb_literal(spec.master_password));
  if (!spec.db_name.empty())
    sql += fmt::format("CREATE DATABASE IF NOT EXISTS {};\n", mariadb_identifier(spec.db_name));
  return run_checked({"mariadb", "--no-defaults", "--socket=" + socket_file(dir).string(), "--user=root", "--batch"},
                     sql);
}

}  // namespace

std::string mariadb_literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string mariadb_identifier(const std::string& text) {
  std::string quoted = "`";
  for (char c : text) {
    if (c == '`') quoted += '`';
    quoted += c;
  }
  return quoted + "`";
}

bool is_mariadb_dir(const fs::path& dir) { return fs::exists(pid_file(dir)) || fs::exists(dir / "data" / "mysql"); }

Status start_mariadb(const fs::path& dir, const DatabaseSpec& spec, const std::vector<std::string>& bind_addresses) {
  if (!fs::exists(kServer)) {
    return fail(make_error("sandbox.mariadb_missing", fmt::format("{} was not found.", kServer),
                           "Install it with scripts/setup (Debian package mariadb-server)."));
  }
  pid_t running = read_pid_file(pid_file(dir));
  if (running > 0 && process_alive(running) && server_answers(dir)) return create_master_user(dir, spec);

  std::error_code error;
  fs::create_directories(dir / "data", error);
  if (error) {
    return fail(make_error("sandbox.mkdir_failed",
                           fmt::format("Creating '{}' failed: {}.", (dir / "data").string(), error.message())));
  }
  for (const fs::path& path : {dir, dir / "data"}) {
    if (Status status = give_to_mysql(path); !status) return status;
  }
  if (!fs::exists(dir / "data" / "mysql")) {
    if (Status status = install_data_dir(dir); !status) return status;
  }
  if (Status status = launch_server(dir, spec, bind_addresses); !status) return status;
  log::get("sandbox")->info("MariaDB server of {} started on port {}", spec.instance_id, spec.port);
  return create_master_user(dir, spec);
}

void stop_mariadb(const fs::path& dir) {
  pid_t pid = read_pid_file(pid_file(dir));
  // SIGTERM makes mariadbd shut down cleanly. A server still flushing after
  // 10 s is killed, and InnoDB recovers from that on its next start.
  if (pid > 0 && process_alive(pid)) stop_process_group(pid, 10'000);
  std::error_code error;
  fs::remove(pid_file(dir), error);
}

}  // namespace hivemind::sandbox
