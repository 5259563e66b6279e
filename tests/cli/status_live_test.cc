// `hivemind status <id> --show-logs | --show-metrics | --show-costs |
// --check` end to end: the real binary against the test's moto_server, with
// a deployment written straight into a temporary state folder and its log
// events, metric data and Cost Explorer results put into moto beforehand.

#include "cli/status_live.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/cloudwatch.h"
#include "aws/curl_transport.h"
#include "aws/logs.h"
#include "common/process.h"
#include "state/store.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::cli {
namespace {

using nlohmann::json;
using std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* kId = "hm-shop-abc234";
constexpr const char* kGroup = "/hivemind/hm-shop-abc234";
constexpr const char* kInstance = "i-0123456789abcdef0";
constexpr const char* kStream = "i-0123456789abcdef0/app";

struct CommandRun {
  int exit_code = -1;
  bool timed_out = false;
  std::string output;  // standard output only
  std::string errors;  // standard error only
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream input(file);
  return std::string(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(system_clock::now().time_since_epoch()).count();
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

class StatusLiveTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    state_dir_ = temp_.path() / "state";
    std::filesystem::create_directories(temp_.path() / "home");
    state::StoreOptions options;
    options.state_dir = state_dir_;
    auto opened = state::Store::open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    store_ = std::move(*opened);

    state::Deployment deployment;
    deployment.id = kId;
    deployment.app_name = "shop";
    deployment.region = "us-east-1";
    deployment.endpoint_kind = state::EndpointKind::aws;
    deployment.created_at = system_clock::now();
    ASSERT_TRUE(store_->create_deployment(deployment).ok());
    record("log_group", "logs:log-group", kGroup);
    record("instance", "ec2:instance", kInstance, 7.59);
    record("database", "rds:db-instance", "hm-shop-abc234-db", 12.41);
    ASSERT_TRUE(aws::logs::create_log_group(client(), kGroup, {}).ok());
    ASSERT_TRUE(aws::logs::create_log_stream(client(), kGroup, kStream).ok());
  }

  void record(const std::string& logical_name, const std::string& kind, const std::string& id, double cost = 0) {
    state::ResourceIntent intent{kId, logical_name, kind, "", cost};
    ASSERT_TRUE(store_->record_intent(intent).ok());
    ASSERT_TRUE(store_->record_created(kId, logical_name, id, "", "{}").ok());
  }

  // Puts one event per line, one millisecond apart, from `first_ms` on.
  void put_lines(const std::vector<std::string>& lines, std::int64_t first_ms) {
    std::vector<aws::logs::LogEvent> events;
    for (size_t i = 0; i < lines.size(); ++i) events.push_back({first_ms + static_cast<std::int64_t>(i), lines[i], {}});
    auto sent = aws::logs::put_log_events(client(), kGroup, kStream, events);
    ASSERT_TRUE(sent.ok()) << sent.error().to_error().describe();
  }

  void queue_costs(const std::string& amount) {
    aws::HttpRequest request;
    request.method = "POST";
    request.url = moto().endpoint() + "/moto-api/static/ce/cost-and-usage-results";
    request.headers = {{"Content-Type", "application/json"}};
    json period = {{"TimePeriod", {{"Start", "2026-12-01"}, {"End", "2026-12-05"}}},
                   {"Total", {{"UnblendedCost", {{"Amount", amount}, {"Unit", "USD"}}}}},
                   {"Groups", json::array()},
                   {"Estimated", true}};
    request.body = json{{"results", json::array({{{"ResultsByTime", json::array({period})}}})}}.dump();
    aws::CurlTransport transport;
    auto response = transport.send(request, aws::TransportOptions{});
    ASSERT_TRUE(response.ok()) << response.error().message;
    ASSERT_EQ(response->status, 201) << response->body;
  }

  CommandRun hivemind(std::vector<std::string> arguments, std::chrono::milliseconds timeout = 2min) {
    std::filesystem::path errors = temp_.path() / ("stderr-" + std::to_string(++runs_) + ".txt");
    std::vector<std::string> argv{"/bin/sh",
                                  "-c",
                                  "exec \"$@\" 2>\"$HIVEMIND_TEST_STDERR\"",
                                  "sh",
                                  HIVEMIND_BINARY_DIR "/hivemind",
                                  "--no-color",
                                  "--state-dir",
                                  state_dir_.string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    ProcessOptions options;
    options.timeout = timeout;
    std::string home = (temp_.path() / "home").string();
    options.environment = {{"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
                           {"HOME", home},
                           {"AWS_CONFIG_FILE", home + "/config"},
                           {"AWS_SHARED_CREDENTIALS_FILE", home + "/credentials"},
                           {"AWS_ENDPOINT_URL", moto().endpoint()},
                           {"AWS_ACCESS_KEY_ID", "testing"},
                           {"AWS_SECRET_ACCESS_KEY", "testing"},
                           {"AWS_REGION", "us-east-1"},
                           {"AWS_EC2_METADATA_DISABLED", "true"},
                           {"HIVEMIND_TEST_STDERR", errors.string()}};
    auto result = run_process(argv, options);
    EXPECT_TRUE(result.ok()) << result.error().describe();
    if (!result) return {};
    return {result->exit_code, result->timed_out, result->output, read_text(errors)};
  }

  json hivemind_json(std::vector<std::string> arguments, int expected_exit) {
    arguments.insert(arguments.begin(), "--json");
    CommandRun run = hivemind(arguments);
    EXPECT_EQ(run.exit_code, expected_exit) << run.output << run.errors;
    json parsed = json::parse(run.output, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << run.output << run.errors;
    return parsed;
  }

  testing::TempDir temp_;
  std::filesystem::path state_dir_;
  std::unique_ptr<state::Store> store_;
  int runs_ = 0;
};

TEST(ParseSince, AcceptsNumberAndUnit) {
  EXPECT_EQ(parse_since("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_since("30m"), std::chrono::seconds(1800));
  EXPECT_EQ(parse_since("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(parse_since("2d"), std::chrono::seconds(172800));
}

TEST(ParseSince, RejectsOtherText) {
  for (const char* text : {"", "h", "1", "0h", "-1h", "1.5h", "1w", "1 h", "32d", "99999999999999999999s"}) {
    EXPECT_FALSE(parse_since(text).has_value()) << text;
  }
}

TEST_F(StatusLiveTest, ShowLogsPrintsLinesAndErrorGroups) {
  std::int64_t start = now_ms() - 60'000;
  put_lines({"GET /health 200", "ERROR payment gateway down", "GET /cart 200", "ERROR payment gateway down"}, start);

  CommandRun run = hivemind({"status", kId, "--show-logs"});

  ASSERT_EQ(run.exit_code, 0) << run.output << run.errors;
  EXPECT_NE(run.output.find("GET /health 200"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("GET /cart 200"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("x2"), std::string::npos) << "the group's count: " << run.output;
  EXPECT_EQ(count_of(run.output, "ERROR payment gateway down"), 3u) << "one group and two lines: " << run.output;
}

TEST_F(StatusLiveTest, FilterKeepsOnlyMatchingLines) {
  put_lines({"GET /checkout 200", "GET /cart 200", "POST /checkout 502"}, now_ms() - 30'000);

  json out = hivemind_json({"status", kId, "--show-logs", "--filter", "checkout"}, 0);

  ASSERT_TRUE(out["logs"]["lines"].is_array()) << out.dump();
  ASSERT_EQ(out["logs"]["lines"].size(), 2u) << out.dump();
  EXPECT_EQ(out["logs"]["lines"][0]["message"], "GET /checkout 200");
  EXPECT_EQ(out["logs"]["lines"][1]["message"], "POST /checkout 502");
}

TEST_F(StatusLiveTest, SinceLeavesOutOlderLines) {
  put_lines({"two hours old"}, now_ms() - 2 * 3600'000);
  put_lines({"ten minutes old"}, now_ms() - 600'000);

  json hour = hivemind_json({"status", kId, "--show-logs", "--since", "1h"}, 0);
  json day = hivemind_json({"status", kId, "--show-logs", "--since", "1d"}, 0);

  ASSERT_EQ(hour["logs"]["lines"].size(), 1u) << hour.dump();
  EXPECT_EQ(hour["logs"]["lines"][0]["message"], "ten minutes old");
  EXPECT_EQ(day["logs"]["lines"].size(), 2u) << day.dump();
}

TEST_F(StatusLiveTest, LinesLimitsShownLinesButNotGroups) {
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) lines.push_back("FATAL worker " + std::to_string(i) + " crashed");
  put_lines(lines, now_ms() - 60'000);

  json out = hivemind_json({"status", kId, "--show-logs", "--lines", "5"}, 0);

  ASSERT_EQ(out["logs"]["lines"].size(), 5u) << out.dump();
  EXPECT_EQ(out["logs"]["lines"][4]["message"], "FATAL worker 29 crashed");
  EXPECT_TRUE(out["logs"]["lines"][4]["error"].get<bool>());
  ASSERT_EQ(out["logs"]["error_groups"].size(), 1u) << out.dump();
  EXPECT_EQ(out["logs"]["error_groups"][0]["count"], 30);
  EXPECT_EQ(out["logs"]["error_groups"][0]["kind"], "fatal");
}

TEST_F(StatusLiveTest, ShowMetricsReadsBackPutData) {
  std::vector<aws::cloudwatch::MetricDatum> points;
  auto now = system_clock::now();
  for (int minute = 1; minute <= 5; ++minute) {
    points.push_back(
        {"CPUUtilization", 10.0 * minute, "Percent", now - std::chrono::minutes(minute), {{"InstanceId", kInstance}}});
  }
  ASSERT_TRUE(aws::cloudwatch::put_metric_data(client(), "AWS/EC2", points).ok());

  json out = hivemind_json({"status", kId, "--show-metrics", "--since", "30m"}, 0);
  CommandRun text = hivemind({"status", kId, "--show-metrics", "--since", "30m"});

  ASSERT_TRUE(out["metrics"]["metrics"].is_array()) << out.dump();
  json cpu = out["metrics"]["metrics"][0];
  EXPECT_EQ(cpu["name"], "CPU");
  EXPECT_EQ(cpu["values"], json::array({50.0, 40.0, 30.0, 20.0, 10.0})) << "oldest first: " << cpu.dump();
  EXPECT_EQ(cpu["maximum"], 50.0);
  EXPECT_EQ(cpu["sparkline"], "█▆▅▃▁");
  EXPECT_EQ(text.exit_code, 0) << text.errors;
  EXPECT_NE(text.output.find("█▆▅▃▁"), std::string::npos) << text.output;
}

TEST_F(StatusLiveTest, ShowCostsLabelsActualAndEstimate) {
  queue_costs("12.34");

  json out = hivemind_json({"status", kId, "--show-costs"}, 0);
  queue_costs("12.34");
  CommandRun text = hivemind({"status", kId, "--show-costs"});

  json costs = out["costs"];
  ASSERT_TRUE(costs["month_to_date"].is_object()) << out.dump();
  EXPECT_DOUBLE_EQ(costs["month_to_date"]["usd"].get<double>(), 12.34);
  EXPECT_EQ(costs["month_to_date"]["kind"], "actual");
  ASSERT_EQ(costs["estimates"].size(), 2u) << out.dump();
  EXPECT_EQ(costs["estimates"][0]["kind"], "estimate");
  EXPECT_DOUBLE_EQ(costs["estimated_monthly_usd"].get<double>(), 20.0);
  EXPECT_NE(text.output.find("12.34  (actual, Cost Explorer)"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("7.59  (estimate, per month)"), std::string::npos) << text.output;
}

TEST_F(StatusLiveTest, AllThreeViewsInOneCall) {
  put_lines({"INFO started"}, now_ms() - 1000);
  queue_costs("1.00");

  json out = hivemind_json({"status", kId, "--show-logs", "--show-metrics", "--show-costs"}, 0);

  EXPECT_TRUE(out.contains("logs")) << out.dump();
  EXPECT_TRUE(out.contains("metrics")) << out.dump();
  EXPECT_TRUE(out.contains("costs")) << out.dump();
  EXPECT_FALSE(out.contains("check")) << out.dump();
}

TEST_F(StatusLiveTest, CheckFailsOnlyOnNewCriticalErrors) {
  put_lines({"INFO ok", "ERROR one slow query"}, now_ms() - 120'000);
  CommandRun quiet = hivemind({"status", kId, "--check"});
  EXPECT_EQ(quiet.exit_code, 0) << "a plain ERROR is not critical: " << quiet.output << quiet.errors;

  put_lines({"FATAL out of file descriptors"}, now_ms() - 1000);
  CommandRun failing = hivemind({"status", kId, "--check"});
  CommandRun again = hivemind({"status", kId, "--check"});

  EXPECT_EQ(failing.exit_code, 1) << failing.output << failing.errors;
  EXPECT_NE(failing.output.find("FATAL out of file descriptors"), std::string::npos) << failing.output;
  EXPECT_EQ(again.exit_code, 0) << "the same error is not new the second time: " << again.output;
  auto remembered = store_->attribute(kId, kLastCheckAttribute);
  ASSERT_TRUE(remembered.ok());
  ASSERT_TRUE(remembered->has_value());
  json memory = json::parse(**remembered, nullptr, false);
  EXPECT_TRUE(memory["last_seen_ms"].contains("fatal|FATAL out of file descriptors")) << **remembered;

  put_lines({"FATAL out of file descriptors"}, now_ms());
  CommandRun recurring = hivemind({"status", kId, "--check"});
  EXPECT_EQ(recurring.exit_code, 1) << "the error happened again: " << recurring.output << recurring.errors;
}

TEST_F(StatusLiveTest, CheckJsonListsProblems) {
  put_lines({"Traceback (most recent call last):", "  File \"app.py\", line 3, in <module>",
             "ZeroDivisionError: division by zero"},
            now_ms() - 5000);

  json out = hivemind_json({"status", kId, "--check"}, 1);

  EXPECT_EQ(out["check"]["ok"], false) << out.dump();
  ASSERT_EQ(out["check"]["problems"].size(), 1u) << out.dump();
  EXPECT_NE(out["check"]["problems"][0].get<std::string>().find("ZeroDivisionError"), std::string::npos);
}

TEST_F(StatusLiveTest, FollowPrintsLinesThatArriveLater) {
  put_lines({"before follow"}, now_ms() - 5000);
  std::thread writer([this] {
    std::this_thread::sleep_for(3s);
    put_lines({"after follow started"}, now_ms());
  });

  // The command runs until the process timeout stops it, as Ctrl-C would.
  CommandRun run = hivemind({"status", kId, "--show-logs", "--follow"}, 12s);
  writer.join();

  EXPECT_TRUE(run.timed_out) << "--follow returned by itself: " << run.output << run.errors;
  EXPECT_EQ(count_of(run.output, "before follow"), 1u) << run.output;
  EXPECT_EQ(count_of(run.output, "after follow started"), 1u) << run.output;
}

TEST_F(StatusLiveTest, InvalidSinceIsUsageError) {
  CommandRun run = hivemind({"status", kId, "--show-logs", "--since", "yesterday"});

  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.errors.find("invalid --since \"yesterday\""), std::string::npos) << run.errors;
}

TEST_F(StatusLiveTest, MissingLogGroupSaysWhatToDo) {
  ASSERT_TRUE(store_->record_deleted(kId, "log_group").ok());

  CommandRun run = hivemind({"status", kId, "--show-logs"});

  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("has no log group in state"), std::string::npos) << run.output << run.errors;
}

TEST_F(StatusLiveTest, SandboxDeploymentWithoutSandboxFails) {
  state::Deployment deployment;
  deployment.id = "hm-shop-xyz789";
  deployment.app_name = "shop";
  deployment.region = "us-east-1";
  deployment.endpoint_kind = state::EndpointKind::sandbox;
  deployment.created_at = system_clock::now();
  ASSERT_TRUE(store_->create_deployment(deployment).ok());

  CommandRun run = hivemind({"status", "hm-shop-xyz789", "--show-logs"});

  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.errors.find("sandbox"), std::string::npos) << run.errors;
}

}  // namespace
}  // namespace hivemind::cli
