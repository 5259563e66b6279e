#pragma once

// A small process runner: fork/exec of an argument vector (never a shell
// unless the caller puts /bin/sh -c in the vector), output of stdout and
// stderr captured through one pipe, a timeout that kills the whole process
// group, and an environment that replaces the parent's instead of extending
// it. Thread safety: run_process() may be called from several threads.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind {

struct ProcessOptions {
  std::filesystem::path working_dir;               // empty: the caller's
  std::map<std::string, std::string> environment;  // the child's whole environment
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::filesystem::path log_file;          // when set, the output is appended there as it arrives
  std::string input;                       // written to the child's standard input, which is then closed
  size_t max_captured_bytes = 256 * 1024;  // ProcessResult::output keeps at most this many final bytes
};

struct ProcessResult {
  int exit_code = -1;      // -1 when the process was killed by a signal
  int signal = 0;          // the signal that ended the process, or 0
  bool timed_out = false;  // the timeout passed and the process group was killed
  std::string output;      // the last max_captured_bytes of stdout and stderr, interleaved
  std::chrono::milliseconds duration{0};

  bool succeeded() const { return exit_code == 0 && !timed_out; }
};

// Looks `program` up in the colon-separated `search_path` unless it contains
// a '/'. Returns nothing when no executable file of that name exists.
std::optional<std::filesystem::path> find_program(const std::string& program, const std::string& search_path);

// Runs argv[0] (looked up in the PATH of options.environment) with the given
// arguments and waits for it. A non-zero exit code or a timeout is a value in
// ProcessResult, not an error; errors are only for a process that could not
// start (program not found, no working folder, fork or pipe failure).
// REQUIRES: !argv.empty()
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options);

// Returns the last `count` lines of `text`.
std::string last_lines(const std::string& text, size_t count);

}  // namespace hivemind
