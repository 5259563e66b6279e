#pragma once

// Typed CloudWatch Logs calls: log groups (tagged at creation, with a
// retention), log streams, writing events, and reading them back by pattern
// or by stream. List and filter calls follow nextToken to the last page.

#include <cstdint>
#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"

namespace hivemind::aws::logs {

struct LogGroup {
  std::string name;
  std::string arn;
  int retention_days = 0;  // 0: kept forever
  std::int64_t stored_bytes = 0;
  std::int64_t creation_time_ms = 0;
};

struct LogStream {
  std::string name;
  std::int64_t creation_time_ms = 0;
  std::int64_t last_event_time_ms = 0;  // 0 before the first event
};

// Milliseconds since the Unix epoch, as CloudWatch Logs counts time.
struct LogEvent {
  std::int64_t timestamp_ms = 0;
  std::string message;
  std::string stream_name;  // set on events read back
};

struct FilterRequest {
  std::string group_name;
  std::string pattern;        // CloudWatch Logs filter pattern; empty matches every event
  std::int64_t start_ms = 0;  // 0: no lower bound
  std::int64_t end_ms = 0;    // 0: no upper bound
  std::vector<std::string> stream_names;
  int page_size = 0;  // 0 lets AWS choose (otherwise 1 to 10000)
};

// Log groups
AwsResult<Unit> create_log_group(AwsClient& client, const std::string& name, const Tags& tags);
AwsResult<Unit> put_retention_policy(AwsClient& client, const std::string& group_name, int days);
AwsResult<std::vector<LogGroup>> describe_log_groups(AwsClient& client, const std::string& name_prefix,
                                                     int page_size = 0);
AwsResult<Unit> delete_log_group(AwsClient& client, const std::string& name);

// Log streams
AwsResult<Unit> create_log_stream(AwsClient& client, const std::string& group_name, const std::string& stream_name);
AwsResult<std::vector<LogStream>> describe_log_streams(AwsClient& client, const std::string& group_name,
                                                       const std::string& name_prefix = {});

// Writes events in time order, split into batches within PutLogEvents'
// limits (10,000 events or 1,048,576 bytes, each event counted with 26 bytes
// of overhead). Returns the number of events that AWS rejected as too old,
// too new or expired.
AwsResult<int> put_log_events(AwsClient& client, const std::string& group_name, const std::string& stream_name,
                              std::vector<LogEvent> events);

// Events matching a filter pattern across the group's streams.
AwsResult<std::vector<LogEvent>> filter_log_events(AwsClient& client, const FilterRequest& request);

// Every event of one stream from the oldest, within [start_ms, end_ms]
// when they are non-zero.
AwsResult<std::vector<LogEvent>> get_log_events(AwsClient& client, const std::string& group_name,
                                                const std::string& stream_name, std::int64_t start_ms = 0,
                                                std::int64_t end_ms = 0);

}  // namespace hivemind::aws::logs
