// Typed CloudWatch Logs calls against moto_server: groups with tags and
// retention, streams, writing events and reading them back.

#include "aws/logs.h"

#include <gtest/gtest.h>

#include <chrono>

#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

constexpr const char* kGroup = "/hivemind/hm-test-abc123/app";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LogsTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    ASSERT_AWS_OK(logs::create_log_group(client(), kGroup, kTestTags));
    ASSERT_AWS_OK(logs::create_log_stream(client(), kGroup, "web-1"));
  }
};

TEST_F(LogsTest, LogGroupIsTaggedAtCreation) {
  auto groups = logs::describe_log_groups(client(), "/hivemind/");
  ASSERT_AWS_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().name, kGroup);

  auto tags = client().json(logs_service(), "ListTagsLogGroup", {{"logGroupName", kGroup}});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(tags->body["tags"].value("hivemind:deployment", ""), "hm-test-abc123");
}

TEST_F(LogsTest, RetentionPolicyIsStored) {
  ASSERT_AWS_OK(logs::put_retention_policy(client(), kGroup, 14));
  auto groups = logs::describe_log_groups(client(), kGroup);
  ASSERT_AWS_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().retention_days, 14);
}

TEST_F(LogsTest, DescribeLogGroupsPagesToTheEnd) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_AWS_OK(logs::create_log_group(client(), "/hivemind/page/" + std::to_string(i), kTestTags));
  }
  auto groups = logs::describe_log_groups(client(), "/hivemind/page/", 1);
  ASSERT_AWS_OK(groups);
  EXPECT_EQ(groups->size(), 4u);
}

TEST_F(LogsTest, EventsComeBackInTimeOrder) {
  std::int64_t start = now_ms();
  // Given out of order: put_log_events sorts them, as AWS requires.
  auto rejected = logs::put_log_events(client(), kGroup, "web-1",
                                       {{start + 2, "GET /health 200", ""}, {start, "server started", ""}});
  ASSERT_AWS_OK(rejected);
  EXPECT_EQ(*rejected, 0);

  auto events = logs::get_log_events(client(), kGroup, "web-1");
  ASSERT_AWS_OK(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].message, "server started");
  EXPECT_EQ((*events)[1].message, "GET /health 200");
  EXPECT_EQ((*events)[1].timestamp_ms, start + 2);
  EXPECT_EQ((*events)[0].stream_name, "web-1");

  auto streams = logs::describe_log_streams(client(), kGroup);
  ASSERT_AWS_OK(streams);
  ASSERT_EQ(streams->size(), 1u);
  EXPECT_EQ(streams->front().name, "web-1");
}

TEST_F(LogsTest, FilterMatchesPatternAcrossPages) {
  ASSERT_AWS_OK(logs::create_log_stream(client(), kGroup, "web-2"));
  std::int64_t start = now_ms();
  std::vector<logs::LogEvent> events;
  for (int i = 0; i < 6; ++i) {
    events.push_back({start + i, i % 2 == 0 ? "ERROR request " + std::to_string(i) : "INFO request", ""});
  }
  ASSERT_AWS_OK(logs::put_log_events(client(), kGroup, "web-1", events));
  ASSERT_AWS_OK(logs::put_log_events(client(), kGroup, "web-2", {{start, "ERROR from web-2", ""}}));

  logs::FilterRequest request;
  request.group_name = kGroup;
  request.pattern = "ERROR";
  request.start_ms = start - 1000;
  request.end_ms = start + 1000;
  request.page_size = 2;
  auto found = logs::filter_log_events(client(), request);
  ASSERT_AWS_OK(found);
  EXPECT_EQ(found->size(), 4u);
  for (const logs::LogEvent& event : *found) EXPECT_EQ(event.message.rfind("ERROR", 0), 0u) << event.message;

  request.stream_names = {"web-2"};
  auto one_stream = logs::filter_log_events(client(), request);
  ASSERT_AWS_OK(one_stream);
  ASSERT_EQ(one_stream->size(), 1u);
  EXPECT_EQ(one_stream->front().stream_name, "web-2");
}

TEST_F(LogsTest, UnknownGroupIsResourceNotFound) {
  EXPECT_EQ(code_of(logs::put_retention_policy(client(), "/hivemind/missing", 7)), "ResourceNotFoundException");
  EXPECT_EQ(code_of(logs::create_log_stream(client(), "/hivemind/missing", "x")), "ResourceNotFoundException");
  EXPECT_EQ(code_of(logs::create_log_group(client(), kGroup, {})), "ResourceAlreadyExistsException");
}

TEST_F(LogsTest, DeleteLogGroupRemovesIt) {
  ASSERT_AWS_OK(logs::delete_log_group(client(), kGroup));
  auto groups = logs::describe_log_groups(client(), kGroup);
  ASSERT_AWS_OK(groups);
  EXPECT_TRUE(groups->empty());
}

}  // namespace
}  // namespace hivemind::aws
