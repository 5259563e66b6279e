// Error grouping over a sample app log with stack traces, levels, 5xx
// responses and an out-of-memory kill.

#include "monitor/error_groups.h"

#include <gtest/gtest.h>

namespace hivemind::monitor {
namespace {

std::vector<LogLine> lines(const std::vector<std::string>& messages) {
  std::vector<LogLine> result;
  std::int64_t time = 1000;
  for (const std::string& message : messages) result.push_back({time++, message});
  return result;
}

const ErrorGroup* find(const std::vector<ErrorGroup>& groups, ErrorKind kind) {
  for (const ErrorGroup& group : groups) {
    if (group.kind == kind) return &group;
  }
  return nullptr;
}

TEST(ErrorGroups, PythonTracebackIsOneGroup) {
  auto groups = group_errors(lines({
      "INFO started",
      "Traceback (most recent call last):",
      "  File \"/app/main.py\", line 12, in handler",
      "    total = 1 / count",
      "ZeroDivisionError: division by zero",
      "INFO request done",
      "Traceback (most recent call last):",
      "  File \"/app/main.py\", line 12, in handler",
      "    total = 1 / count",
      "ZeroDivisionError: division by zero",
  }));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].kind, ErrorKind::kStackTrace);
  EXPECT_EQ(groups[0].signature, "ZeroDivisionError: division by zero");
  EXPECT_EQ(groups[0].count, 2);
  EXPECT_EQ(groups[0].first_seen_ms, 1001);
  EXPECT_EQ(groups[0].last_seen_ms, 1006);
  EXPECT_EQ(groups[0].sample,
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in handler\n"
            "    total = 1 / count\nZeroDivisionError: division by zero");
}

TEST(ErrorGroups, NodeTraceIsOneGroup) {
  auto groups = group_errors(lines({
      "TypeError: Cannot read properties of undefined (reading 'id')",
      "    at handler (/app/server.js:14:20)",
      "    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)",
      "listening on 3000",
  }));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].kind, ErrorKind::kStackTrace);
  EXPECT_EQ(groups[0].signature, "TypeError: Cannot read properties of undefined (reading 'id')");
  EXPECT_EQ(groups[0].count, 1);
}

TEST(ErrorGroups, LevelsDigitsAndStatusesGroup) {
  auto groups = group_errors(lines({
      "2026-12-04 10:00:01 ERROR database timeout after 5000 ms",
      "2026-12-04 10:00:02 ERROR database timeout after 7000 ms",
      "2026-12-04 10:00:03 FATAL cannot bind port 3000",
      "10.0.0.7 - - [04/Dec/2026:10:00:04 +0000] \"GET /orders/17 HTTP/1.1\" 502 0",
      "10.0.0.8 - - [04/Dec/2026:10:00:05 +0000] \"GET /orders/18 HTTP/1.1\" 502 0",
      "10.0.0.8 - - [04/Dec/2026:10:00:06 +0000] \"GET /health HTTP/1.1\" 200 2",
      "Out of memory: Killed process 4242 (node) total-vm:1024kB",
  }));
  ASSERT_EQ(groups.size(), 4u);

  const ErrorGroup* error = find(groups, ErrorKind::kError);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->signature, "ERROR database timeout after # ms");
  EXPECT_EQ(error->count, 2);
  EXPECT_EQ(error->sample, "2026-12-04 10:00:01 ERROR database timeout after 5000 ms");

  const ErrorGroup* fatal = find(groups, ErrorKind::kFatal);
  ASSERT_NE(fatal, nullptr);
  EXPECT_EQ(fatal->signature, "FATAL cannot bind port #");

  const ErrorGroup* http = find(groups, ErrorKind::kHttp5xx);
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->signature, "GET /orders/# 502");
  EXPECT_EQ(http->count, 2);
  EXPECT_EQ(http->first_seen_ms, 1003);
  EXPECT_EQ(http->last_seen_ms, 1004);

  const ErrorGroup* oom = find(groups, ErrorKind::kOutOfMemory);
  ASSERT_NE(oom, nullptr);
  EXPECT_EQ(oom->count, 1);
}

TEST(ErrorGroups, MostFrequentComesFirst) {
  auto groups = group_errors(lines({"ERROR a", "FATAL b", "ERROR a"}));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].signature, "ERROR a");
  EXPECT_EQ(groups[1].signature, "FATAL b");
}

TEST(ErrorGroups, QuietLogHasNoGroups) {
  EXPECT_TRUE(group_errors(lines({"INFO up", "GET / 200", "warning: slow"})).empty());
  EXPECT_TRUE(group_errors({}).empty());
}

TEST(ErrorGroups, OnlyPlainErrorsAreNotCritical) {
  EXPECT_FALSE(is_critical(ErrorKind::kError));
  EXPECT_TRUE(is_critical(ErrorKind::kFatal));
  EXPECT_TRUE(is_critical(ErrorKind::kStackTrace));
  EXPECT_TRUE(is_critical(ErrorKind::kHttp5xx));
  EXPECT_TRUE(is_critical(ErrorKind::kOutOfMemory));
}

}  // namespace
}  // namespace hivemind::monitor
