#pragma once

// Session: one authenticated SSH connection to a deployment's host, used to
// run commands and to move files over SFTP. Every command, its exit status
// and its duration go to the log (component "deployer"); standard input,
// secret files and their contents never do.
//
// Host keys are trusted on first use: the caller passes the fingerprint it
// recorded earlier, or none on the first connection, and then records
// host_key_fingerprint() in the deployment's state.
//
// Thread safety: a Session is not thread safe; use one per thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

struct ssh_session_struct;
struct sftp_session_struct;

namespace hivemind::remote {

// Called after a failed connection attempt that will be retried.
using RetryCallback = std::function<void(int attempt, const Error& error)>;

struct ConnectOptions {
  std::string host;
  int port = 22;
  std::string user;
  std::filesystem::path private_key_file;
  // "SHA256:..." recorded on an earlier connection; empty on the first one,
  // in which case any host key is accepted and returned.
  std::optional<std::string> expected_host_key_fingerprint;
  // Bound on the TCP connect and on each protocol exchange of the handshake.
  std::chrono::milliseconds connect_timeout{10'000};
  // Attempts in all (1 = no retry) while the host boots and refuses or drops
  // connections. Host key and authentication failures are never retried.
  int connect_attempts = 1;
  std::chrono::milliseconds retry_delay{3'000};
  RetryCallback on_retry;
};

struct ExecOptions {
  // Written to the command's standard input, then closed. Never logged.
  std::string stdin_data;
  std::chrono::milliseconds timeout{300'000};
  // Each of stdout and stderr keeps at most this many bytes: the last ones,
  // because a command's outcome is usually at the end of its output.
  std::size_t max_output_bytes = 1 << 20;
};

struct CommandResult {
  // The remote exit status, or -1 when the process ended without one (killed
  // by a signal).
  int exit_status = -1;
  std::string stdout_text;
  std::string stderr_text;
  std::chrono::milliseconds duration{0};
  bool output_truncated = false;
};

// Called as a transfer advances, with bytes done and bytes in all.
using ProgressCallback = std::function<void(std::uint64_t done, std::uint64_t total)>;

class Session {
 public:
  // Connects, verifies the host key and authenticates with the private key.
  static Result<Session> connect(const ConnectOptions& options);

  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // The SHA-256 fingerprint of the host key seen during the handshake.
  const std::string& host_key_fingerprint() const { return host_key_fingerprint_; }
  // "user@host:port", as the log and error messages name this host.
  const std::string& target() const { return target_; }

  // Runs `command` through the remote user's login shell, which must be a
  // POSIX shell (sh, bash, dash). A non-zero exit status is a value in the
  // result, not an error. Errors are transport failures and the timeout,
  // after which the command's whole process group is sent SIGTERM.
  Result<CommandResult> exec(std::string_view command, const ExecOptions& options = {});

  // Runs `command` and fails unless it exits with status 0; the error shows
  // the exit status and the tail of stderr.
  Result<CommandResult> run(std::string_view command, const ExecOptions& options = {});

  // Uploads a local file to `remote_path` with permission bits `mode`,
  // creating missing parent folders (mode 0755). The file is written under a
  // temporary name, then renamed, so a reader never sees half a file; its
  // size is checked after the upload.
  Status upload(const std::filesystem::path& local_path, const std::string& remote_path, int mode,
                const ProgressCallback& progress = {});

  // Downloads `remote_path` into a local file (replaced if it exists).
  Status download(const std::string& remote_path, const std::filesystem::path& local_path,
                  const ProgressCallback& progress = {});

  // Writes `content` to `remote_path` with mode 0600 straight from memory:
  // the text never appears in a command line, a local file or the log.
  Status write_secret_file(const std::string& remote_path, const Secret& content);

 private:
  Session(ssh_session_struct* session, std::string target, std::string fingerprint);

  Status open_sftp();
  Status make_remote_folders(const std::string& folder);
  Status finish_upload(const std::string& temporary_path, const std::string& remote_path, int mode,
                       std::uint64_t expected_size);
  Error sftp_error(std::string_view operation, const std::string& path) const;
  void close();
  // Sends SIGTERM to a timed-out command's process group, over a new channel.
  void kill_process_group(long process_group);

  ssh_session_struct* session_ = nullptr;
  sftp_session_struct* sftp_ = nullptr;  // opened on the first file transfer
  std::string target_;
  std::string host_key_fingerprint_;
};

}  // namespace hivemind::remote
