// Measures the status views (logs, metrics, costs) against a local
// moto_server: the three reads in parallel through fetch_status_views(),
// one after the other for comparison, and the whole command
// `hivemind status <id> --show-logs --show-metrics --show-costs` as a user
// runs it (the built binary next to bench/, process start included). Set
// HIVEMIND_BENCH_MOTO_ENDPOINT=http://127.0.0.1:PORT; without it the cases
// are skipped. The seeded data: 200 log lines, 60 CPU points, two resources
// with estimated costs and the log group in state.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <tuple>

#include "aws/cloudwatch.h"
#include "aws/curl_transport.h"
#include "aws/logs.h"
#include "common/process.h"
#include "monitor/status_views.h"
#include "state/store.h"

namespace hivemind::monitor {
namespace {

constexpr const char* kId = "hm-bench-abc234";
constexpr const char* kGroup = "/hivemind/hm-bench-abc234";

std::string moto_endpoint() {
  const char* value = std::getenv("HIVEMIND_BENCH_MOTO_ENDPOINT");
  if (value == nullptr) return {};
  const std::string endpoint = value;
  bool loopback = endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost:");
  return loopback ? endpoint : std::string();
}

aws::ClientConfig bench_config(const std::string& endpoint) {
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.credentials = aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "bench"};
  config.endpoint_for = [endpoint](const aws::ServiceSpec&) { return endpoint; };
  config.sleep = [](std::chrono::milliseconds) {};
  return config;
}

struct Fixture {
  std::unique_ptr<aws::AwsClient> client;
  std::unique_ptr<state::Store> store;
  MonitoredResources resources;
};

// Seeds moto and a state store in a temporary folder, once per process.
Fixture* fixture(const std::string& endpoint) {
  static std::unique_ptr<Fixture> seeded_fixture = [&] {
    auto built = std::make_unique<Fixture>();
    built->client = std::make_unique<aws::AwsClient>(bench_config(endpoint), std::make_shared<aws::CurlTransport>());
    state::StoreOptions options;
    options.state_dir = std::filesystem::temp_directory_path() / "hivemind-status-bench";
    std::filesystem::remove_all(options.state_dir);  // a deployment left by an earlier run would be kept as is
    auto store = state::Store::open(options);
    if (!store) return std::unique_ptr<Fixture>();
    built->store = std::move(*store);
    state::Deployment deployment;
    deployment.id = kId;
    deployment.app_name = "bench";
    deployment.region = "us-east-1";
    (void)built->store->create_deployment(deployment);
    for (auto [name, kind, id, cost] : {std::tuple{"instance", "ec2:instance", "i-bench", 15.18},
                                        std::tuple{"load_balancer", "elbv2:load-balancer", "id-load_balancer", 16.43},
                                        std::tuple{"log_group", "logs:log-group", kGroup, 0.0}}) {
      (void)built->store->record_intent({kId, name, kind, "", cost});
      (void)built->store->record_created(kId, name, id, "", "{}");
    }

    aws::AwsClient& client = *built->client;
    (void)aws::logs::create_log_group(client, kGroup, {});
    (void)aws::logs::create_log_stream(client, kGroup, "i-bench");
    auto now = std::chrono::system_clock::now();
    std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::vector<aws::logs::LogEvent> events;
    for (int i = 0; i < 200; ++i) {
      events.push_back({now_ms - 200'000 + i * 1000, i % 10 == 0 ? "ERROR request failed" : "INFO ok", {}});
    }
    (void)aws::logs::put_log_events(client, kGroup, "i-bench", events);
    std::vector<aws::cloudwatch::MetricDatum> points;
    for (int i = 0; i < 60; ++i) {
      points.push_back({"CPUUtilization",
                        double(i % 7) * 10,
                        "Percent",
                        now - std::chrono::minutes(i),
                        {{"InstanceId", "i-bench"}}});
    }
    (void)aws::cloudwatch::put_metric_data(client, "AWS/EC2", points);

    built->resources.deployment_id = kId;
    built->resources.region = "us-east-1";
    built->resources.instance_id = "i-bench";
    built->resources.load_balancer = "app/hm-bench-abc234-alb/0123456789abcdef";
    built->resources.log_group = kGroup;
    return built;
  }();
  return seeded_fixture.get();
}

void run_views(benchmark::State& state, bool parallel) {
  std::string endpoint = moto_endpoint();
  Fixture* seeded = endpoint.empty() ? nullptr : fixture(endpoint);
  if (seeded == nullptr) {
    state.SkipWithError("set HIVEMIND_BENCH_MOTO_ENDPOINT to a loopback moto_server URL");
    return;
  }
  for (auto _ : state) {
    StatusRequest request;
    request.logs_query.now = std::chrono::system_clock::now();
    if (parallel) {
      StatusViews views = fetch_status_views(*seeded->client, *seeded->store, seeded->resources, request);
      if (!views.logs->ok() || !views.metrics->ok() || !views.costs->ok()) state.SkipWithError("a view failed");
      benchmark::DoNotOptimize(views);
    } else {
      auto logs = fetch_logs(*seeded->client, seeded->resources, request.logs_query);
      auto metrics = fetch_metrics(*seeded->client, seeded->resources, request.metrics_window);
      auto costs = fetch_costs(*seeded->client, *seeded->store, kId, "2026-12-04");
      if (!logs || !metrics || !costs) state.SkipWithError("a view failed");
    }
  }
}

// The hivemind binary: <build>/hivemind, beside this program's bench/ folder.
std::filesystem::path hivemind_binary() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "hivemind";
}

void BM_StatusCommand(benchmark::State& state) {
  std::string endpoint = moto_endpoint();
  Fixture* seeded = endpoint.empty() ? nullptr : fixture(endpoint);
  if (seeded == nullptr) {
    state.SkipWithError("set HIVEMIND_BENCH_MOTO_ENDPOINT to a loopback moto_server URL");
    return;
  }
  ProcessOptions options;
  options.timeout = std::chrono::seconds(30);
  options.environment = {{"PATH", "/usr/bin:/bin"},
                         {"HOME", seeded->store->state_dir().string()},
                         {"AWS_CONFIG_FILE", "/dev/null"},
                         {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                         {"AWS_ENDPOINT_URL", endpoint},
                         {"AWS_ACCESS_KEY_ID", "bench"},
                         {"AWS_SECRET_ACCESS_KEY", "bench"},
                         {"AWS_REGION", "us-east-1"},
                         {"AWS_EC2_METADATA_DISABLED", "true"}};
  std::vector<std::string> argv{hivemind_binary().string(),
                                "--no-color",
                                "--state-dir",
                                seeded->store->state_dir().string(),
                                "status",
                                kId,
                                "--show-logs",
                                "--show-metrics",
                                "--show-costs"};
  for (auto _ : state) {
    auto run = run_process(argv, options);
    if (!run || !run->succeeded()) {
      state.SkipWithError(run ? ("status failed: " + run->output).c_str() : run.error().describe().c_str());
      return;
    }
  }
}

void BM_StatusViewsParallel(benchmark::State& state) { run_views(state, true); }
void BM_StatusViewsSequential(benchmark::State& state) { run_views(state, false); }
BENCHMARK(BM_StatusViewsParallel)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StatusViewsSequential)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StatusCommand)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hivemind::monitor

BENCHMARK_MAIN();
