#pragma once

// Groups the error lines of an application log: stack traces (Python
// tracebacks, Java and Node "at ..." frames), ERROR and FATAL levels, HTTP
// 5xx responses in access log lines, and out-of-memory kills. A pure
// function, so that `hivemind status --show-logs` and --check agree.

#include <cstdint>
#include <string>
#include <vector>

namespace hivemind::monitor {

struct LogLine {
  std::int64_t timestamp_ms = 0;  // since the Unix epoch
  std::string message;
};

enum class ErrorKind { kStackTrace, kFatal, kOutOfMemory, kError, kHttp5xx };

const char* to_string(ErrorKind kind);

// True for the kinds that --check treats as critical: everything but a plain
// ERROR line.
bool is_critical(ErrorKind kind);

struct ErrorGroup {
  ErrorKind kind = ErrorKind::kError;
  // What makes two errors the same: the exception type and message, or the
  // line with digits replaced by '#'.
  std::string signature;
  std::string sample;  // the first occurrence, a whole stack trace included
  int count = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
};

// Returns whether one line reads as an error on its own: a line of one of
// the kinds above, a stack frame, or the first line of a Python traceback.
// The CLI paints these lines red.
bool is_error_line(const std::string& line);

// Returns the groups, the most frequent first (ties: the most recent first).
// Lines must be in time order; the lines of one stack trace are joined.
std::vector<ErrorGroup> group_errors(const std::vector<LogLine>& lines);

}  // namespace hivemind::monitor
