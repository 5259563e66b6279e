// `hivemind status <id>` against the AWS CLI making the describe calls that
// show the same resources, both as separate processes on the same machine in
// the same run, against a local moto_server.
//
// Set HIVEMIND_BENCH_MOTO_ENDPOINT=http://127.0.0.1:PORT; without it the
// cases are skipped. The program first deploys a small Node.js app with a
// database (`hivemind deploy --db --no-auto-cleanup`), which moto keeps with
// its resources because the deploy stage does not reach moto's
// invented hosts, and destroys it at exit. The hivemind binary is found next
// to the bench folder (build/hivemind for build/bench/status_cli_bench), or
// at HIVEMIND_BENCH_BINARY. The AWS CLI is `aws` on PATH.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process.h"

namespace hivemind {
namespace {

std::string moto_endpoint() {
  const char* value = std::getenv("HIVEMIND_BENCH_MOTO_ENDPOINT");
  if (value == nullptr) return {};
  const std::string endpoint = value;
  bool loopback = endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost:");
  return loopback ? endpoint : std::string();
}

std::filesystem::path hivemind_binary() {
  if (const char* configured = std::getenv("HIVEMIND_BENCH_BINARY")) return configured;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "hivemind";
}

// The deployed app, its state folder and the environment every command gets.
struct Deployment {
  std::filesystem::path root;
  std::filesystem::path state_dir;
  std::map<std::string, std::string> environment;
  std::string id;
  std::string instance_id;
  std::string error;  // set when the setup failed
};

std::map<std::string, std::string> command_environment(const std::filesystem::path& root, const std::string& endpoint) {
  const char* path = std::getenv("PATH");
  const std::string home = (root / "home").string();
  return {{"PATH", path != nullptr ? path : "/usr/bin:/bin"},
          {"HOME", home},
          {"AWS_CONFIG_FILE", home + "/config"},
          {"AWS_SHARED_CREDENTIALS_FILE", home + "/credentials"},
          {"AWS_ENDPOINT_URL", endpoint},
          {"AWS_ACCESS_KEY_ID", "testing"},
          {"AWS_SECRET_ACCESS_KEY", "testing"},
          {"AWS_REGION", "us-east-1"},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

Result<ProcessResult> run(const Deployment& deployment, const std::vector<std::string>& argv,
                          const std::filesystem::path& working_dir = {}) {
  ProcessOptions options;
  options.environment = deployment.environment;
  options.working_dir = working_dir;
  options.timeout = std::chrono::minutes(3);
  return run_process(argv, options);
}

std::vector<std::string> hivemind_command(const Deployment& deployment, std::vector<std::string> arguments) {
  std::vector<std::string> argv{hivemind_binary().string(), "--no-color", "--state-dir", deployment.state_dir.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return argv;
}

std::string write_app(Deployment& deployment) {
  const std::filesystem::path app = deployment.root / "bench-web";
  std::filesystem::create_directories(app);
  std::filesystem::create_directories(deployment.root / "home");
  std::ofstream(app / "package.json")
      << R"({"name": "bench-web", "version": "1.0.0", "private": true, "scripts": {"start": "node server.js"}})";
  std::ofstream(app / "server.js") << "require('http').createServer((q, s) => s.end('ok')).listen(3000);\n";
  for (const std::vector<std::string>& git :
       {std::vector<std::string>{"git", "init", "-q", "."}, std::vector<std::string>{"git", "add", "."},
        std::vector<std::string>{"git", "-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-qm",
                                 "Add the app"}}) {
    auto result = run(deployment, git, app);
    if (!result || !result->succeeded()) return git[1] + " failed in " + app.string();
  }
  return {};
}

// Deploys once per process; destroys the deployment and removes the folder
// at exit. The object lives until the process ends, so that the exit handler
// can still read it.
Deployment* deployment(const std::string& endpoint) {
  static Deployment* deployed = [&] {
    auto* built = new Deployment();
    std::string pattern = (std::filesystem::temp_directory_path() / "hivemind-status-cli-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      built->error = "mkdtemp failed";
      return built;
    }
    built->root = pattern;
    // Registered before the deploy, so that a failed setup removes its folder too.
    std::atexit([] {
      Deployment* done = deployment("");
      if (done == nullptr || done->root.empty()) return;
      if (!done->id.empty()) {
        (void)run(*done,
                  hivemind_command(*done, {"--yes", "destroy", done->id, "--target", "aws", "--skip-final-snapshot"}));
      }
      std::error_code ignored;
      std::filesystem::remove_all(done->root, ignored);
    });
    built->state_dir = built->root / "state";
    built->environment = command_environment(built->root, endpoint);
    built->error = write_app(*built);
    if (!built->error.empty()) return built;

    auto deployed_run =
        run(*built, hivemind_command(*built, {"--json", "deploy", (built->root / "bench-web").string(), "--target",
                                              "aws", "--db", "--ssh-cidr", "203.0.113.7/32", "--no-auto-cleanup"}));
    // The output carries standard error's progress lines before the JSON.
    const std::string output = deployed_run ? deployed_run->output : std::string();
    const std::size_t start = output.starts_with("{") ? 0 : output.find("\n{");
    nlohmann::json outcome =
        start == std::string::npos ? nlohmann::json() : nlohmann::json::parse(output.substr(start), nullptr, false);
    if (!outcome.is_object() || !outcome.contains("id")) {
      built->error = "deploy failed: " + (deployed_run ? last_lines(deployed_run->output, 5) : std::string());
      return built;
    }
    built->id = outcome["id"];
    for (const nlohmann::json& resource : outcome.value("resources", nlohmann::json::array())) {
      if (resource.value("logical_name", "") == "instance") built->instance_id = resource.value("physical_id", "");
    }
    return built;
  }();
  return deployed;
}

// The AWS CLI calls that list what `hivemind status <id>` shows: every
// resource with the deployment's tag, then the instance, load balancer,
// target group and database states.
// Each call names the endpoint with --endpoint-url, because AWS CLI 1.45.11
// sent `rds describe-db-instances` to https://rds.amazonaws.com although
// AWS_ENDPOINT_URL was set.
std::vector<std::vector<std::string>> aws_cli_calls(const std::string& id, const std::string& endpoint) {
  const std::string tag_filter = "Name=tag:hivemind:deployment,Values=" + id;
  std::vector<std::vector<std::string>> calls = {
      {"aws", "resourcegroupstaggingapi", "get-resources", "--tag-filters", "Key=hivemind:deployment,Values=" + id},
      {"aws", "ec2", "describe-vpcs", "--filters", tag_filter},
      {"aws", "ec2", "describe-subnets", "--filters", tag_filter},
      {"aws", "ec2", "describe-security-groups", "--filters", tag_filter},
      {"aws", "ec2", "describe-instances", "--filters", tag_filter},
      {"aws", "elbv2", "describe-load-balancers"},
      {"aws", "elbv2", "describe-target-groups"},
      {"aws", "rds", "describe-db-instances"},
  };
  for (std::vector<std::string>& call : calls) call.insert(call.begin() + 1, {"--endpoint-url", endpoint});
  return calls;
}

Deployment* ready_deployment(benchmark::State& state) {
  const std::string endpoint = moto_endpoint();
  if (endpoint.empty()) {
    state.SkipWithError("set HIVEMIND_BENCH_MOTO_ENDPOINT to a loopback moto_server URL");
    return nullptr;
  }
  Deployment* deployed = deployment(endpoint);
  if (!deployed->error.empty()) {
    state.SkipWithError(deployed->error.c_str());
    return nullptr;
  }
  return deployed;
}

void BM_HivemindStatus(benchmark::State& state) {
  Deployment* deployed = ready_deployment(state);
  if (deployed == nullptr) return;
  const std::vector<std::string> argv = hivemind_command(*deployed, {"--json", "status", deployed->id});
  for (auto _ : state) {
    auto result = run(*deployed, argv);
    if (!result || !result->succeeded()) state.SkipWithError("hivemind status failed");
  }
}
BENCHMARK(BM_HivemindStatus)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

void BM_AwsCliDescribeCalls(benchmark::State& state) {
  Deployment* deployed = ready_deployment(state);
  if (deployed == nullptr) return;
  const std::vector<std::vector<std::string>> calls = aws_cli_calls(deployed->id, moto_endpoint());
  for (auto _ : state) {
    for (const std::vector<std::string>& call : calls) {
      auto result = run(*deployed, call);
      if (!result || !result->succeeded()) state.SkipWithError(("failed: " + call[3] + " " + call[4]).c_str());
    }
  }
  state.counters["processes"] = static_cast<double>(calls.size());
}
BENCHMARK(BM_AwsCliDescribeCalls)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// "Start=YYYY-MM-01,End=<first day of next month>" for Cost Explorer, in UTC.
std::string this_month(std::time_t now) {
  std::tm parts{};
  gmtime_r(&now, &parts);
  const int year = parts.tm_year + 1900;
  const int month = parts.tm_mon + 1;
  char text[64];
  std::snprintf(text, sizeof text, "Start=%04d-%02d-01,End=%04d-%02d-01", year, month, month == 12 ? year + 1 : year,
                month == 12 ? 1 : month + 1);
  return text;
}

// The live views too (logs, metrics, costs), read from AWS in parallel.
void BM_HivemindStatusLive(benchmark::State& state) {
  Deployment* deployed = ready_deployment(state);
  if (deployed == nullptr) return;
  const std::vector<std::string> argv =
      hivemind_command(*deployed, {"--json", "status", deployed->id, "--show-logs", "--show-metrics", "--show-costs"});
  for (auto _ : state) {
    auto result = run(*deployed, argv);
    if (!result || !result->succeeded()) state.SkipWithError("hivemind status --show-logs ... failed");
  }
}
BENCHMARK(BM_HivemindStatusLive)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

// The AWS CLI reads of the same live views: the deployment's log events, an
// hour of the instance's CPU, and the month's costs, one process each.
void BM_AwsCliLiveViews(benchmark::State& state) {
  Deployment* deployed = ready_deployment(state);
  if (deployed == nullptr) return;
  const std::string endpoint = moto_endpoint();
  const auto now = std::chrono::system_clock::now();
  const std::time_t now_seconds = std::chrono::system_clock::to_time_t(now);
  const std::string end = std::to_string(now_seconds);
  const std::string start = std::to_string(now_seconds - 3600);
  const std::vector<std::vector<std::string>> calls = {
      {"aws", "--endpoint-url", endpoint, "logs", "filter-log-events", "--log-group-name", "/hivemind/" + deployed->id},
      {"aws", "--endpoint-url", endpoint, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/EC2",
       "--metric-name", "CPUUtilization", "--dimensions", "Name=InstanceId,Value=" + deployed->instance_id,
       "--start-time", start, "--end-time", end, "--period", "300", "--statistics", "Average"},
      {"aws", "--endpoint-url", endpoint, "ce", "get-cost-and-usage", "--time-period", this_month(now_seconds),
       "--granularity", "MONTHLY", "--metrics", "UnblendedCost"},
  };
  for (auto _ : state) {
    for (const std::vector<std::string>& call : calls) {
      auto result = run(*deployed, call);
      if (!result || !result->succeeded()) state.SkipWithError(("failed: " + call[3] + " " + call[4]).c_str());
    }
  }
  state.counters["processes"] = static_cast<double>(calls.size());
}
BENCHMARK(BM_AwsCliLiveViews)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// One AWS CLI process alone, for its start-up cost.
void BM_AwsCliOneCall(benchmark::State& state) {
  Deployment* deployed = ready_deployment(state);
  if (deployed == nullptr) return;
  const std::vector<std::string> call = aws_cli_calls(deployed->id, moto_endpoint())[4];
  for (auto _ : state) {
    auto result = run(*deployed, call);
    if (!result || !result->succeeded()) state.SkipWithError("aws ec2 describe-instances failed");
  }
}
BENCHMARK(BM_AwsCliOneCall)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace hivemind

BENCHMARK_MAIN();
