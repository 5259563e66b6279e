#pragma once

// A real PostgreSQL 15 server for tests: initdb into a temporary folder,
// then pg_ctl start on a free 127.0.0.1 port, both as the operating-system
// user "postgres" (the server refuses to run as root). The superuser has a
// password and logins use scram-sha-256, as on RDS. Stopped with pg_ctl stop
// and its folder removed when the object is destroyed.

#include <memory>
#include <string>

#include "support/temp_dir.h"

namespace hivemind::testing {

class PostgresServer {
 public:
  static constexpr const char* kUser = "hivemind";
  static constexpr const char* kPassword = "correct-horse-battery";
  static constexpr const char* kDatabase = "postgres";

  // Starts the server; fails the calling test and returns nullptr when the
  // binaries are missing or the server does not come up.
  static std::unique_ptr<PostgresServer> start();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }

 private:
  PostgresServer() = default;

  TempDir folder_;
  std::string data_dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace hivemind::testing
