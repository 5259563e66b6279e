#pragma once

// The sandbox's stand-in for RDS: each DB instance in moto becomes its own
// local database server, as on RDS, whose superuser is the instance's master
// user with the master password. PostgreSQL engines run Debian's PostgreSQL
// as the postgres account (initdb and pg_ctl), engines mysql and mariadb run
// Debian's MariaDB as the mysql account (sandbox/mariadb.h), each with a
// data folder under <state_dir>/sandbox/databases/<id>, listening on
// 127.0.0.1 and on the bridge address, so that the machine and the sandbox
// hosts both reach it.
// Not thread safe: the sandbox daemon's loop is its only user.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace hivemind::sandbox {

struct DatabaseSpec {
  std::string instance_id;
  std::string engine;  // RDS engine name: "postgres", "mysql", "mariadb", ...
  std::string master_username;
  std::string master_password;  // NOTE: a secret; never logged
  std::string db_name;          // created when not empty
  std::uint16_t port = 0;       // local port on 127.0.0.1 and the bridge address
};

// Returns whether the sandbox can stand in for this RDS engine.
bool engine_supported(const std::string& engine);
// Returns whether the engine speaks the MySQL protocol (mysql, mariadb).
bool is_mysql_engine(const std::string& engine);

// Creates and starts the server of `spec` in `dir`, unless it runs already.
Status start_database(const std::filesystem::path& dir, const DatabaseSpec& spec);

// Stops the server in `dir` and removes the folder, dropping every database
// in it. Safe on a missing folder.
Status remove_database(const std::filesystem::path& dir);

// The bin folder of Debian's newest installed PostgreSQL, e.g.
// /usr/lib/postgresql/15/bin; empty when none is installed.
std::filesystem::path postgres_bin_dir();

}  // namespace hivemind::sandbox
