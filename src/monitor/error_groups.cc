#include "monitor/error_groups.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <regex>

namespace hivemind::monitor {
namespace {

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

bool is_indented(const std::string& line) { return !line.empty() && (line[0] == ' ' || line[0] == '\t'); }

bool is_frame(const std::string& line) {
  static const std::regex frame(R"(^\s+(at |File "|\.\.\. \d+ more))");
  return std::regex_search(line, frame);
}

// Replaces every run of digits with '#', so that ids, ports and times do not
// split one error into many groups.
std::string normalize(const std::string& text) {
  std::string result;
  bool in_digits = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (!in_digits) result += '#';
      in_digits = true;
      continue;
    }
    in_digits = false;
    result += c;
  }
  return result;
}

// Drops a leading timestamp or level prefix up to the level word, so that
// "2026-12-04 10:00:01 ERROR db down" groups as "ERROR db down".
std::string from_level(const std::string& line, const char* level) {
  size_t at = line.find(level);
  return at == std::string::npos ? line : line.substr(at);
}

std::optional<ErrorKind> classify(const std::string& line) {
  static const std::regex http_5xx(R"(" 5\d\d |\bstatus[=:]\s*5\d\d\b)");
  static const std::regex fatal(R"(\b(FATAL|CRITICAL|PANIC)\b|^panic: )");
  static const std::regex error(R"(\bERROR\b|\blevel[=:]"?error\b|\[error\])", std::regex::icase);
  if (contains(line, "Out of memory: Killed process") || contains(line, "oom-kill") || contains(line, "OOMKilled") ||
      contains(line, "heap out of memory") || contains(line, "MemoryError")) {
    return ErrorKind::kOutOfMemory;
  }
  if (std::regex_search(line, http_5xx)) return ErrorKind::kHttp5xx;
  if (std::regex_search(line, fatal)) return ErrorKind::kFatal;
  if (std::regex_search(line, error)) return ErrorKind::kError;
  return std::nullopt;
}

std::string signature_of(ErrorKind kind, const std::string& line) {
  switch (kind) {
    case ErrorKind::kFatal:
      for (const char* level : {"FATAL", "CRITICAL", "PANIC", "panic"}) {
        if (contains(line, level)) return normalize(from_level(line, level));
      }
      return normalize(line);
    case ErrorKind::kError:
      return normalize(from_level(line, contains(line, "ERROR") ? "ERROR" : "rror"));
    case ErrorKind::kHttp5xx: {
      // The request line and status of an access log line, without the client.
      static const std::regex request(R"re("([A-Z]+ \S+)[^"]*" (5\d\d))re");
      std::smatch match;
      if (std::regex_search(line, match, request)) return normalize(match[1].str()) + " " + match[2].str();
      return normalize(line);
    }
    default:
      return normalize(line);
  }
}

// A stack trace that starts at lines[start]: the lines it spans and its
// signature, or nothing when no trace starts there.
struct Trace {
  size_t end = 0;  // one past the last line
  std::string signature;
  std::string text;
};

std::optional<Trace> read_trace(const std::vector<LogLine>& lines, size_t start) {
  const std::string& first = lines[start].message;
  bool python = contains(first, "Traceback (most recent call last)");
  bool framed = start + 1 < lines.size() && is_frame(lines[start + 1].message);
  if (!python && !framed) return std::nullopt;

  Trace trace;
  trace.text = first;
  size_t next = start + 1;
  while (next < lines.size() && (is_indented(lines[next].message) || contains(lines[next].message, "Caused by"))) {
    trace.text += "\n" + lines[next].message;
    ++next;
  }
  if (python && next < lines.size()) {
    // A traceback ends with the exception line, which is not indented.
    trace.signature = normalize(lines[next].message);
    trace.text += "\n" + lines[next].message;
    ++next;
  } else {
    trace.signature = normalize(first.substr(std::min(first.find_first_not_of(' '), first.size())));
  }
  trace.end = next;
  return trace;
}

void add(std::map<std::pair<ErrorKind, std::string>, ErrorGroup>& groups, ErrorKind kind, std::string signature,
         const std::string& sample, std::int64_t time) {
  ErrorGroup& group = groups[{kind, signature}];
  if (group.count == 0) {
    group.kind = kind;
    group.signature = std::move(signature);
    group.sample = sample;
    group.first_seen_ms = time;
  }
  ++group.count;
  group.last_seen_ms = std::max(group.last_seen_ms, time);
}

}  // namespace

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kStackTrace:
      return "stack trace";
    case ErrorKind::kFatal:
      return "fatal";
    case ErrorKind::kOutOfMemory:
      return "out of memory";
    case ErrorKind::kError:
      return "error";
    case ErrorKind::kHttp5xx:
      return "HTTP 5xx";
  }
  return "error";
}

bool is_critical(ErrorKind kind) { return kind != ErrorKind::kError; }

bool is_error_line(const std::string& line) {
  return classify(line).has_value() || is_frame(line) || contains(line, "Traceback (most recent call last)");
}

std::vector<ErrorGroup> group_errors(const std::vector<LogLine>& lines) {
  std::map<std::pair<ErrorKind, std::string>, ErrorGroup> groups;
  size_t index = 0;
  while (index < lines.size()) {
    const LogLine& line = lines[index];
    if (std::optional<Trace> trace = read_trace(lines, index)) {
      add(groups, ErrorKind::kStackTrace, trace->signature, trace->text, line.timestamp_ms);
      index = trace->end;
      continue;
    }
    if (std::optional<ErrorKind> kind = classify(line.message)) {
      add(groups, *kind, signature_of(*kind, line.message), line.message, line.timestamp_ms);
    }
    ++index;
  }

  std::vector<ErrorGroup> result;
  for (auto& [key, group] : groups) result.push_back(std::move(group));
  std::stable_sort(result.begin(), result.end(), [](const ErrorGroup& a, const ErrorGroup& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.last_seen_ms > b.last_seen_ms;
  });
  return result;
}

}  // namespace hivemind::monitor
