#pragma once

// The sandbox's stand-in for RDS engines mysql and mariadb: Debian's MariaDB
// server (mariadbd, run as the mysql account) with its data folder under
// <state_dir>/sandbox/databases/<id>/data, a Unix socket in that folder for
// the sandbox's own administration (root by socket authentication), and TCP
// on 127.0.0.1 and the bridge address. The master user gets every privilege
// from any address with the master password, as on RDS, and DBName is
// created. Used through start_database() and remove_database().
// Not thread safe: the sandbox daemon's loop is its only user.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/database.h"

namespace hivemind::sandbox {

// Creates the data folder on first use, starts the server unless it runs,
// and creates the master user and the database. `bind_addresses` are the
// IPv4 addresses to listen on, at spec.port.
Status start_mariadb(const std::filesystem::path& dir, const DatabaseSpec& spec,
                     const std::vector<std::string>& bind_addresses);

// Stops the server whose pid file is in `dir`, if any, and leaves the folder.
void stop_mariadb(const std::filesystem::path& dir);

// Returns whether `dir` contains a MariaDB server's files.
bool is_mariadb_dir(const std::filesystem::path& dir);

// Returns a MariaDB string literal ('...') of `text`.
std::string mariadb_literal(const std::string& text);
// Returns a MariaDB identifier (`...`) of `text`.
std::string mariadb_identifier(const std::string& text);

}  // namespace hivemind::sandbox
