#include "sandbox/database.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <fstream>

#include "common/log.h"
#include "sandbox/host.h"
#include "sandbox/mariadb.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPostgresUser = "postgres";

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"runuser", "-u", kPostgresUser, "--"});
  return argv;
}

Status give_to_postgres(const fs::path& path) {
  passwd* user = ::getpwnam(kPostgresUser);
  if (user == nullptr || ::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    return fail(make_error("sandbox.chown_failed",
                           fmt::format("Giving '{}' to {} failed.", path.string(), kPostgresUser),
                           "Install PostgreSQL with scripts/setup, which creates the postgres account."));
  }
  return ok_unit();
}

// Returns a SQL string literal of `text`.
std::string sql_literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

// Returns a SQL identifier of `text`.
std::string sql_identifier(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

Status init_cluster(const fs::path& dir, const DatabaseSpec& spec) {
  fs::path bin = postgres_bin_dir();
  fs::path password_file = dir / "initdb-password";
  {
    std::ofstream out(password_file, std::ios::trunc);
    out << spec.master_password << "\n";
  }
  fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write);
  if (Status status = give_to_postgres(password_file); !status) return status;

  Status status = run_checked(as_postgres({(bin / "initdb").string(), "--pgdata", (dir / "data").string(), "--username",
                                           spec.master_username, "--pwfile", password_file.string(), "--auth-local",
                                           "peer", "--auth-host", "scram-sha-256", "--no-instructions"}));
  std::error_code error;
  fs::remove(password_file, error);
  if (!status) return status;

  // initdb allows host logins from loopback only; the sandbox hosts connect
  // from the bridge's subnet.
  std::ofstream hba(dir / "data" / "pg_hba.conf", std::ios::app);
  hba << "host all all 198.18.0.0/24 scram-sha-256\n";
  return ok_unit();
}

Status start_cluster(const fs::path& dir, const DatabaseSpec& spec) {
  std::string options =
      fmt::format("-p {} -k {} -c listen_addresses='127.0.0.1,{}'", spec.port, dir.string(), kBridgeAddress);
  return run_checked(as_postgres({(postgres_bin_dir() / "pg_ctl").string(), "--pgdata", (dir / "data").string(),
                                  "--log", (dir / "postgres.log").string(), "--wait", "--options", options, "start"}));
}

Status create_initial_database(const fs::path& dir, const DatabaseSpec& spec) {
  if (spec.db_name.empty()) return ok_unit();
  // Connects over TCP as the master user with the password, the way a
  // client of RDS does.
  std::string sql =
      fmt::format("SELECT 'CREATE DATABASE {}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {})\\gexec\n",
                  sql_identifier(spec.db_name), sql_literal(spec.db_name));
  return run_checked({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", std::to_string(spec.port),
                      "-U", spec.master_username, "-d", "postgres"},
                     sql, {"PGPASSWORD=" + spec.master_password});
}

bool cluster_running(const fs::path& dir) {
  auto result = run_command(
      as_postgres({(postgres_bin_dir() / "pg_ctl").string(), "--pgdata", (dir / "data").string(), "status"}));
  return result && result->exit_code == 0;
}

}  // namespace

bool engine_supported(const std::string& engine) { return engine == "postgres" || is_mysql_engine(engine); }

bool is_mysql_engine(const std::string& engine) { return engine == "mysql" || engine == "mariadb"; }

fs::path postgres_bin_dir() {
  fs::path newest;
  int newest_version = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > newest_version && fs::exists(entry.path() / "bin" / "initdb")) {
      newest_version = version;
      newest = entry.path() / "bin";
    }
  }
  return newest;
}

Status start_database(const fs::path& dir, const DatabaseSpec& spec) {
  if (!engine_supported(spec.engine)) {
    return fail(make_error("sandbox.engine_unsupported",
                           fmt::format("The sandbox cannot stand in for RDS engine '{}' of DB instance {}.",
                                       spec.engine, spec.instance_id),
                           "Use engine postgres, mysql or mariadb in the sandbox."));
  }
  if (is_mysql_engine(spec.engine)) return start_mariadb(dir, spec, {"127.0.0.1", kBridgeAddress});
  if (postgres_bin_dir().empty()) {
    return fail(make_error("sandbox.postgres_missing", "PostgreSQL's initdb was not found under /usr/lib/postgresql.",
                           "Install it with scripts/setup (Debian package postgresql)."));
  }
  if (fs::exists(dir / "data") && cluster_running(dir)) return ok_unit();

  std::error_code error;
  fs::create_directories(dir, error);
  if (Status status = give_to_postgres(dir); !status) return status;
  if (!fs::exists(dir / "data" / "PG_VERSION")) {
    if (Status status = init_cluster(dir, spec); !status) return status;
  }
  if (Status status = start_cluster(dir, spec); !status) return status;
  log::get("sandbox")->info("database server of {} started on port {}", spec.instance_id, spec.port);
  return create_initial_database(dir, spec);
}

Status remove_database(const fs::path& dir) {
  if (!fs::exists(dir)) return ok_unit();
  if (is_mariadb_dir(dir)) stop_mariadb(dir);
  if (fs::exists(dir / "data" / "postmaster.pid")) {
    (void)run_command(as_postgres({(postgres_bin_dir() / "pg_ctl").string(), "--pgdata", (dir / "data").string(),
                                   "--mode", "immediate", "--wait", "stop"}));
  }
  std::error_code error;
  fs::remove_all(dir, error);
  if (error) {
    return fail(make_error("sandbox.remove_failed",
                           fmt::format("Removing database folder '{}' failed: {}.", dir.string(), error.message())));
  }
  return ok_unit();
}

}  // namespace hivemind::sandbox
