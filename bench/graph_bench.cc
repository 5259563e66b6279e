// The graph walker's own cost per node, and the speed-up of a parallel walk
// over a sequential one on a web-with-database resource graph whose nodes
// sleep in place of AWS calls.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "graph/walker.h"

namespace {

using hivemind::Status;
using hivemind::graph::Graph;
using hivemind::graph::walk;
using hivemind::graph::WalkOptions;

Status no_op(const std::string&) { return hivemind::ok_unit(); }

Graph independent_nodes(int count) {
  Graph graph;
  for (int i = 0; i < count; ++i) (void)graph.add_node("n" + std::to_string(i));
  return graph;
}

Graph chain(int count) {
  Graph graph;
  (void)graph.add_node("n0");
  for (int i = 1; i < count; ++i) (void)graph.add_node("n" + std::to_string(i), {"n" + std::to_string(i - 1)});
  return graph;
}

// The resources of a web application with a database, as the provisioner
// would create them: 18 nodes, 6 levels deep.
Graph web_with_database() {
  Graph graph;
  (void)graph.add_node("vpc");
  for (const char* id : {"subnet_public_a", "subnet_public_b", "subnet_private_a", "subnet_private_b",
                         "internet_gateway", "sg_alb", "sg_web", "sg_db"}) {
    (void)graph.add_node(id, {"vpc"});
  }
  (void)graph.add_node("route_table_public", {"internet_gateway", "subnet_public_a", "subnet_public_b"});
  (void)graph.add_node("db_subnet_group", {"subnet_private_a", "subnet_private_b"});
  (void)graph.add_node("ec2_web", {"subnet_public_a", "sg_web", "route_table_public"});
  (void)graph.add_node("rds", {"db_subnet_group", "sg_db"});
  (void)graph.add_node("alb", {"subnet_public_a", "subnet_public_b", "sg_alb", "route_table_public"});
  (void)graph.add_node("target_group", {"vpc"});
  (void)graph.add_node("target_registration", {"target_group", "ec2_web"});
  (void)graph.add_node("listener", {"alb", "target_group"});
  (void)graph.add_node("dns_record", {"listener", "rds"});
  return graph;
}

void run_walk(benchmark::State& state, const Graph& graph, std::size_t workers) {
  WalkOptions options;
  options.max_workers = workers;
  for (auto _ : state) {
    auto report = walk(graph, no_op, options);
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(graph.size()));
}

void BM_WalkIndependentNodes(benchmark::State& state) {
  run_walk(state, independent_nodes(static_cast<int>(state.range(0))), static_cast<std::size_t>(state.range(1)));
}
BENCHMARK(BM_WalkIndependentNodes)->Args({1000, 1})->Args({1000, 8})->UseRealTime();

void BM_WalkChain(benchmark::State& state) {
  run_walk(state, chain(static_cast<int>(state.range(0))), static_cast<std::size_t>(state.range(1)));
}
BENCHMARK(BM_WalkChain)->Args({1000, 1})->Args({1000, 8})->UseRealTime();

constexpr auto kNodeSleep = std::chrono::milliseconds(20);

Status sleeping_node(const std::string&) {
  std::this_thread::sleep_for(kNodeSleep);
  return hivemind::ok_unit();
}

double timed_walk_ms(const Graph& graph, std::size_t workers) {
  WalkOptions options;
  options.max_workers = workers;
  const auto start = std::chrono::steady_clock::now();
  auto report = walk(graph, sleeping_node, options);
  benchmark::DoNotOptimize(report);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void BM_WalkWebGraphSleeping(benchmark::State& state) {
  const Graph graph = web_with_database();
  for (auto _ : state) {
    state.SetIterationTime(timed_walk_ms(graph, static_cast<std::size_t>(state.range(0))) / 1000.0);
  }
}
BENCHMARK(BM_WalkWebGraphSleeping)->Arg(1)->Arg(8)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);

// Prints the parallel speed-up on the web graph, the best of five runs each.
void print_speed_up() {
  const Graph graph = web_with_database();
  double sequential = 1e9;
  double parallel = 1e9;
  for (int run = 0; run < 5; ++run) {
    sequential = std::min(sequential, timed_walk_ms(graph, 1));
    parallel = std::min(parallel, timed_walk_ms(graph, 8));
  }
  std::printf("web graph, %zu nodes sleeping %lld ms: sequential %.1f ms, parallel (8 workers) %.1f ms, ratio %.2f\n",
              graph.size(), static_cast<long long>(kNodeSleep.count()), sequential, parallel, sequential / parallel);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_speed_up();
  return 0;
}
