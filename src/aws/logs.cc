#include "aws/logs.h"

#include <algorithm>
#include <string>
#include <utility>

namespace hivemind::aws::logs {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxEventsPerBatch = 10'000;
constexpr std::size_t kMaxBatchBytes = 1'048'576;
constexpr std::size_t kEventOverheadBytes = 26;

std::int64_t int64_field(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_number()) return 0;
  return found->get<std::int64_t>();
}

LogEvent parse_event(const json& item) {
  return LogEvent{int64_field(item, "timestamp"), calls::json_string(item, "message"),
                  calls::json_string(item, "logStreamName")};
}

// Splits time-ordered events into batches that PutLogEvents accepts.
std::vector<std::vector<LogEvent>> split_batches(std::vector<LogEvent> events) {
  std::vector<std::vector<LogEvent>> batches(1);
  std::size_t batch_bytes = 0;
  for (LogEvent& event : events) {
    std::size_t event_bytes = event.message.size() + kEventOverheadBytes;
    bool full = batches.back().size() == kMaxEventsPerBatch || batch_bytes + event_bytes > kMaxBatchBytes;
    if (full && !batches.back().empty()) {
      batches.emplace_back();
      batch_bytes = 0;
    }
    batches.back().push_back(std::move(event));
    batch_bytes += event_bytes;
  }
  return batches;
}

// Events before tooOldLogEventEndIndex or expiredLogEventEndIndex, and every
// event from tooNewLogEventStartIndex on, were rejected.
int count_rejected(const json& response, std::size_t batch_size) {
  auto info = response.find("rejectedLogEventsInfo");
  if (info == response.end() || !info->is_object()) return 0;

  std::int64_t leading =
      std::max(int64_field(*info, "tooOldLogEventEndIndex"), int64_field(*info, "expiredLogEventEndIndex"));
  std::int64_t trailing = 0;
  if (info->contains("tooNewLogEventStartIndex")) {
    trailing = static_cast<std::int64_t>(batch_size) - int64_field(*info, "tooNewLogEventStartIndex");
  }
  return static_cast<int>(leading + trailing);
}

}  // namespace

AwsResult<Unit> create_log_group(AwsClient& client, const std::string& name, const Tags& tags) {
  json body{{"logGroupName", name}};
  if (!tags.empty()) body["tags"] = calls::tags_as_map(tags);
  return calls::json_status(client, logs_service(), "CreateLogGroup", body);
}

AwsResult<Unit> put_retention_policy(AwsClient& client, const std::string& group_name, int days) {
  return calls::json_status(client, logs_service(), "PutRetentionPolicy",
                            {{"logGroupName", group_name}, {"retentionInDays", days}});
}

AwsResult<std::vector<LogGroup>> describe_log_groups(AwsClient& client, const std::string& name_prefix, int page_size) {
  json body = json::object();
  if (!name_prefix.empty()) body["logGroupNamePrefix"] = name_prefix;
  if (page_size > 0) body["limit"] = page_size;

  std::vector<LogGroup> groups;
  AwsResult<Unit> paged =
      calls::json_pages(client, logs_service(), "DescribeLogGroups", body, "nextToken", [&](const json& page) {
        for (const json& item : page.value("logGroups", json::array())) {
          groups.push_back(LogGroup{calls::json_string(item, "logGroupName"), calls::json_string(item, "arn"),
                                    static_cast<int>(int64_field(item, "retentionInDays")),
                                    int64_field(item, "storedBytes"), int64_field(item, "creationTime")});
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return groups;
}

AwsResult<Unit> delete_log_group(AwsClient& client, const std::string& name) {
  return calls::json_status(client, logs_service(), "DeleteLogGroup", {{"logGroupName", name}});
}

AwsResult<Unit> create_log_stream(AwsClient& client, const std::string& group_name, const std::string& stream_name) {
  return calls::json_status(client, logs_service(), "CreateLogStream",
                            {{"logGroupName", group_name}, {"logStreamName", stream_name}});
}

AwsResult<std::vector<LogStream>> describe_log_streams(AwsClient& client, const std::string& group_name,
                                                       const std::string& name_prefix) {
  json body{{"logGroupName", group_name}};
  if (!name_prefix.empty()) body["logStreamNamePrefix"] = name_prefix;

  std::vector<LogStream> streams;
  AwsResult<Unit> paged =
      calls::json_pages(client, logs_service(), "DescribeLogStreams", body, "nextToken", [&](const json& page) {
        for (const json& item : page.value("logStreams", json::array())) {
          streams.push_back(LogStream{calls::json_string(item, "logStreamName"), int64_field(item, "creationTime"),
                                      int64_field(item, "lastEventTimestamp")});
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return streams;
}

AwsResult<int> put_log_events(AwsClient& client, const std::string& group_name, const std::string& stream_name,
                              std::vector<LogEvent> events) {
  if (events.empty()) return 0;
  std::stable_sort(events.begin(), events.end(),
                   [](const LogEvent& a, const LogEvent& b) { return a.timestamp_ms < b.timestamp_ms; });

  int rejected = 0;
  for (const std::vector<LogEvent>& batch : split_batches(std::move(events))) {
    json body{{"logGroupName", group_name}, {"logStreamName", stream_name}, {"logEvents", json::array()}};
    for (const LogEvent& event : batch) {
      body["logEvents"].push_back({{"timestamp", event.timestamp_ms}, {"message", event.message}});
    }
    AwsResult<JsonResponse> response = client.json(logs_service(), "PutLogEvents", body);
    if (!response.ok()) return fail(std::move(response).error());
    rejected += count_rejected(response->body, batch.size());
  }
  return rejected;
}

AwsResult<std::vector<LogEvent>> filter_log_events(AwsClient& client, const FilterRequest& request) {
  json body{{"logGroupName", request.group_name}};
  if (!request.pattern.empty()) body["filterPattern"] = request.pattern;
  if (request.start_ms > 0) body["startTime"] = request.start_ms;
  if (request.end_ms > 0) body["endTime"] = request.end_ms;
  if (!request.stream_names.empty()) body["logStreamNames"] = request.stream_names;
  if (request.page_size > 0) body["limit"] = request.page_size;

  std::vector<LogEvent> events;
  AwsResult<Unit> paged =
      calls::json_pages(client, logs_service(), "FilterLogEvents", body, "nextToken", [&](const json& page) {
        for (const json& item : page.value("events", json::array())) events.push_back(parse_event(item));
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return events;
}

AwsResult<std::vector<LogEvent>> get_log_events(AwsClient& client, const std::string& group_name,
                                                const std::string& stream_name, std::int64_t start_ms,
                                                std::int64_t end_ms) {
  json body{{"logGroupName", group_name}, {"logStreamName", stream_name}, {"startFromHead", true}};
  if (start_ms > 0) body["startTime"] = start_ms;
  if (end_ms > 0) body["endTime"] = end_ms;

  // GetLogEvents never returns an empty forward token: the end of the stream
  // is the page whose nextForwardToken equals the token that was sent.
  std::vector<LogEvent> events;
  std::string token;
  while (true) {
    if (!token.empty()) body["nextToken"] = token;
    AwsResult<JsonResponse> page = client.json(logs_service(), "GetLogEvents", body);
    if (!page.ok()) return fail(std::move(page).error());

    const json page_events = page->body.value("events", json::array());
    for (const json& item : page_events) {
      LogEvent event = parse_event(item);
      event.stream_name = stream_name;
      events.push_back(std::move(event));
    }
    std::string next = calls::json_string(page->body, "nextForwardToken");
    if (next.empty() || next == token || page_events.empty()) return events;
    token = std::move(next);
  }
}

}  // namespace hivemind::aws::logs
