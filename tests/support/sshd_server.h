#pragma once

// SshdServer: a real OpenSSH sshd for tests, listening only on 127.0.0.1 at
// a free port, with its own temporary host key, sshd_config and
// authorized_keys. It runs `sshd -D -e -f <config>` as a child process that
// the kernel kills if the test program dies (PR_SET_PDEATHSIG), and stops it
// in the destructor. Only root may log in, with the key passed in.
//
// Needs root (sshd changes user per login) and Debian's openssh-server.
// Failures to start throw std::runtime_error with sshd's own output.

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace hivemind::testing {

class SshdServer {
 public:
  // Starts sshd; `authorized_key` is an authorized_keys line for root.
  // With `port` 0 the kernel picks a free port.
  explicit SshdServer(const std::string& authorized_key, int port = 0);
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  std::string user() const { return "root"; }

  // The host key's fingerprint as `ssh-keygen -l -E sha256` prints it.
  std::string host_key_fingerprint() const;

  // Stops sshd, replaces its host key with a new one, starts it again on the
  // same port: what a client sees when a host is rebuilt at the same address.
  void restart_with_new_host_key();

  // A folder for the test's own files, removed with the server.
  std::filesystem::path scratch_folder() const { return folder_.path() / "scratch"; }

  // sshd's -e output so far, for failure messages.
  std::string log_text() const;

 private:
  void write_host_key();
  void write_config();
  void start();
  void stop();
  void wait_until_listening();

  TempDir folder_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace hivemind::testing
