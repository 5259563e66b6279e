// Cost of one AWS call in HiveMind's own client, apart from the network:
// serialize, sign with SigV4, and parse, over an in-memory transport. Also
// the calls per second that one process gets from a local moto_server, when
// HIVEMIND_BENCH_MOTO_ENDPOINT names one (a loopback URL such as
// http://127.0.0.1:5000).

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/curl_transport.h"

namespace {

using namespace hivemind::aws;

// Returns the same canned response for every request.
class CannedTransport : public HttpTransport {
 public:
  explicit CannedTransport(HttpResponse response) : response_(std::move(response)) {}

  hivemind::Result<HttpResponse, TransportError> send(const HttpRequest& request, const TransportOptions&) override {
    benchmark::DoNotOptimize(request.headers.data());
    return response_;
  }

 private:
  HttpResponse response_;
};

// A DescribeVpcs response with `count` VPCs, each with two tags.
std::string describe_vpcs_body(int count) {
  std::string body =
      "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
      "<requestId>bench-request</requestId><vpcSet>";
  for (int i = 0; i < count; ++i) {
    body += "<item><vpcId>vpc-" + std::to_string(100000 + i) +
            "</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock><tagSet>"
            "<item><key>Name</key><value>bench</value></item>"
            "<item><key>hivemind:deployment</key><value>hm-bench-abc123</value></item></tagSet></item>";
  }
  return body + "</vpcSet></DescribeVpcsResponse>";
}

std::string describe_log_groups_body(int count) {
  std::string body = R"({"logGroups":[)";
  for (int i = 0; i < count; ++i) {
    if (i > 0) body += ",";
    body +=
        R"({"logGroupName":"/hivemind/bench/)" + std::to_string(i) +
        R"(","creationTime":1733300000000,"storedBytes":0,"arn":"arn:aws:logs:us-east-1:123456789012:log-group:x"})";
  }
  return body + "]}";
}

ClientConfig bench_config(const std::string& endpoint) {
  ClientConfig config;
  config.region = "us-east-1";
  config.credentials = Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "bench"};
  config.endpoint_for = [endpoint](const ServiceSpec&) { return endpoint; };
  config.sleep = [](std::chrono::milliseconds) {};
  return config;
}

void BM_QueryCallInMemory(benchmark::State& state) {
  HttpResponse response{200, {{"Content-Type", "text/xml"}}, describe_vpcs_body(static_cast<int>(state.range(0)))};
  AwsClient client(bench_config("http://127.0.0.1:1"), std::make_shared<CannedTransport>(response));
  const QueryParams params = {{"Filter.1.Name", "tag:hivemind:deployment"}, {"Filter.1.Value.1", "hm-bench-abc123"}};

  for (auto _ : state) {
    auto result = client.query(ec2_service(), "DescribeVpcs", params);
    if (!result.ok()) state.SkipWithError(result.error().message.c_str());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueryCallInMemory)->Arg(1)->Arg(100);

void BM_JsonCallInMemory(benchmark::State& state) {
  HttpResponse response{
      200, {{"x-amzn-RequestId", "bench"}}, describe_log_groups_body(static_cast<int>(state.range(0)))};
  AwsClient client(bench_config("http://127.0.0.1:1"), std::make_shared<CannedTransport>(response));
  const nlohmann::json body = {{"logGroupNamePrefix", "/hivemind/bench"}, {"limit", 50}};

  for (auto _ : state) {
    auto result = client.json(logs_service(), "DescribeLogGroups", body);
    if (!result.ok()) state.SkipWithError(result.error().message.c_str());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonCallInMemory)->Arg(1)->Arg(100);

// Returns the moto endpoint from the environment when it is a loopback URL.
std::string moto_endpoint() {
  const char* value = std::getenv("HIVEMIND_BENCH_MOTO_ENDPOINT");
  if (value == nullptr) return {};
  const std::string endpoint = value;
  const bool loopback = endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost:");
  return loopback ? endpoint : std::string();
}

void BM_MotoGetCallerIdentity(benchmark::State& state) {
  const std::string endpoint = moto_endpoint();
  if (endpoint.empty()) {
    state.SkipWithError("set HIVEMIND_BENCH_MOTO_ENDPOINT to a loopback moto_server URL");
    return;
  }
  AwsClient client(bench_config(endpoint), std::make_shared<CurlTransport>());

  for (auto _ : state) {
    auto result = client.query(sts_service(), "GetCallerIdentity", {});
    if (!result.ok()) {
      state.SkipWithError(result.error().to_error().describe().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MotoGetCallerIdentity)->UseRealTime();

void BM_MotoDescribeLogGroups(benchmark::State& state) {
  const std::string endpoint = moto_endpoint();
  if (endpoint.empty()) {
    state.SkipWithError("set HIVEMIND_BENCH_MOTO_ENDPOINT to a loopback moto_server URL");
    return;
  }
  AwsClient client(bench_config(endpoint), std::make_shared<CurlTransport>());

  for (auto _ : state) {
    auto result = client.json(logs_service(), "DescribeLogGroups", {{"limit", 5}});
    if (!result.ok()) {
      state.SkipWithError(result.error().to_error().describe().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MotoDescribeLogGroups)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
