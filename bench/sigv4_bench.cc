// Cost of SigV4 signing: one typical query-protocol call, bodies of growing
// size (the payload hash dominates), a request with many headers and query
// parameters, and the signing-key derivation alone.

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "aws/sigv4.h"

namespace {

using hivemind::aws::Credentials;
using hivemind::aws::HttpRequest;
using hivemind::aws::SigningScope;

const Credentials kCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token",
                               "bench", std::nullopt};
const SigningScope kScope{"ec2", "eu-west-1", std::chrono::system_clock::time_point(std::chrono::seconds(1796418000))};

HttpRequest describe_vpcs_request() {
  return HttpRequest{"POST",
                     "https://ec2.eu-west-1.amazonaws.com/",
                     {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                     "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Ahivemind%3Adeployment&"
                     "Filter.1.Value.1=shop-prod"};
}

void BM_SignQueryCall(benchmark::State& state) {
  const HttpRequest unsigned_request = describe_vpcs_request();
  for (auto _ : state) {
    HttpRequest request = unsigned_request;
    hivemind::aws::sign_request(request, kCredentials, kScope);
    benchmark::DoNotOptimize(request.headers.back().second.data());
  }
}
BENCHMARK(BM_SignQueryCall);

void BM_SignBody(benchmark::State& state) {
  HttpRequest unsigned_request = describe_vpcs_request();
  unsigned_request.body.assign(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    HttpRequest request = unsigned_request;
    hivemind::aws::sign_request(request, kCredentials, kScope);
    benchmark::DoNotOptimize(request.headers.back().second.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SignBody)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

void BM_SignManyHeadersAndParameters(benchmark::State& state) {
  HttpRequest unsigned_request{"GET", "https://logs.eu-west-1.amazonaws.com/some/path/with%20spaces/", {}, ""};
  for (int i = 0; i < 40; ++i) {
    unsigned_request.url +=
        (i == 0 ? "?" : "&") + std::string("param") + std::to_string(i) + "=value%20" + std::to_string(i);
    unsigned_request.headers.emplace_back("X-Custom-" + std::to_string(i), "  spaced   value  " + std::to_string(i));
  }
  for (auto _ : state) {
    HttpRequest request = unsigned_request;
    hivemind::aws::sign_request(request, kCredentials, kScope);
    benchmark::DoNotOptimize(request.headers.back().second.data());
  }
}
BENCHMARK(BM_SignManyHeadersAndParameters);

void BM_DeriveSigningKey(benchmark::State& state) {
  for (auto _ : state) {
    std::string key = hivemind::aws::derive_signing_key(kCredentials.secret_access_key, "20261204", "eu-west-1", "ec2");
    benchmark::DoNotOptimize(key.data());
  }
}
BENCHMARK(BM_DeriveSigningKey);

}  // namespace

BENCHMARK_MAIN();
