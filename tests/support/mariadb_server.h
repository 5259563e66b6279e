#pragma once

// A real MariaDB server for tests: mariadb-install-db into a temporary
// folder, then mariadbd on a free 127.0.0.1 port. As root the server runs as
// the operating-system user "mysql" (mariadbd refuses to run as root), as
// another user it runs as that user. A user with a password and a database
// are created through the server's Unix socket, the way the sandbox sets up
// an RDS master user. The server receives SIGKILL if the test program dies,
// and SIGTERM (then SIGKILL after 10 s) when the object is destroyed.

#include <sys/types.h>

#include <memory>
#include <string>

#include "support/temp_dir.h"

namespace hivemind::testing {

class MariaDbServer {
 public:
  static constexpr const char* kUser = "hivemind";
  static constexpr const char* kPassword = "tr0ub4dor-and-3";
  static constexpr const char* kDatabase = "app";

  // Starts the server; fails the calling test and returns nullptr when the
  // binaries are missing or the server does not come up within 30 s.
  static std::unique_ptr<MariaDbServer> start();
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  int port() const { return port_; }

 private:
  MariaDbServer() = default;
  bool launch();
  bool wait_until_ready();
  bool create_user();
  std::string error_log() const;
  void stop();

  TempDir folder_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace hivemind::testing
