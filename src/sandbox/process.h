#pragma once

// Runs the local programs that the sandbox is made of (ip, sshd, haproxy,
// pg_ctl, psql, useradd) without a shell, so that no argument is ever parsed
// twice. Safe to call from several threads at once.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::sandbox {

struct CommandOutput {
  int exit_code = 0;
  std::string output;  // standard output and standard error, interleaved
};

// Runs `argv` to completion, with `input` on its standard input and
// `extra_environment` ("NAME=value") added to this process's environment,
// and returns its exit code and output. Fails only when the program could
// not be started. Secrets go in `input` or the environment, never in argv.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, const std::string& input = {},
                                  const std::vector<std::string>& extra_environment = {});

// Runs `argv` and fails, naming the command and quoting its output, unless it
// exits with 0.
Status run_checked(const std::vector<std::string>& argv, const std::string& input = {},
                   const std::vector<std::string>& extra_environment = {});

// Starts `argv` detached in a new session (its own process group), with
// standard output and standard error appended to `log_file`, and returns its
// pid. The caller owns the process and stops it with stop_process_group().
Result<pid_t> spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_file);

// Returns whether a process with this pid exists and is not a zombie.
bool process_alive(pid_t pid);

// Sends SIGTERM to the process group `pgid`, waits up to `grace_ms` for its
// leader to exit, then sends SIGKILL to the group.
void stop_process_group(pid_t pgid, int grace_ms = 3000);

// Reads a pid written by write_pid_file(); 0 when the file is missing or invalid.
pid_t read_pid_file(const std::filesystem::path& file);
Status write_pid_file(const std::filesystem::path& file, pid_t pid);

// Writes `content` to `file` through a temporary file in the same folder and
// a rename, so that a reader sees the old or the new content, never a part.
Status write_file_atomically(const std::filesystem::path& file, const std::string& content);

}  // namespace hivemind::sandbox
