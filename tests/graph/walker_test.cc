#include "graph/walker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace hivemind::graph {
namespace {

using std::chrono::steady_clock;

// A thread-safe log of "start <id>" and "end <id>" lines, in the order the
// actions reached them.
class Trace {
 public:
  void add(const std::string& line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(line);
  }
  std::size_t position(const std::string& line) const {
    std::lock_guard lock(mutex_);
    auto found = std::find(lines_.begin(), lines_.end(), line);
    return found == lines_.end() ? lines_.size() : static_cast<std::size_t>(found - lines_.begin());
  }
  bool contains(const std::string& line) const { return position(line) < size(); }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return lines_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Waits, with a bound, until `count` nodes have arrived: proves that they
// ran at the same time, because a sequential walk never lets them all in.
class Rendezvous {
 public:
  explicit Rendezvous(int count) : expected_(count) {}
  bool arrive_and_wait() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    wake_.notify_all();
    return wake_.wait_for(lock, std::chrono::seconds(10), [this] { return arrived_ >= expected_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  int arrived_ = 0;
  const int expected_;
};

Graph web_graph() {
  Graph graph;
  EXPECT_TRUE(graph.add_node("vpc").ok());
  EXPECT_TRUE(graph.add_node("subnet_a", {"vpc"}).ok());
  EXPECT_TRUE(graph.add_node("subnet_b", {"vpc"}).ok());
  EXPECT_TRUE(graph.add_node("sg", {"vpc"}).ok());
  EXPECT_TRUE(graph.add_node("ec2", {"subnet_a", "sg"}).ok());
  EXPECT_TRUE(graph.add_node("rds", {"subnet_a", "subnet_b", "sg"}).ok());
  EXPECT_TRUE(graph.add_node("alb", {"subnet_a", "subnet_b", "sg"}).ok());
  EXPECT_TRUE(graph.add_node("listener", {"alb", "ec2"}).ok());
  return graph;
}

NodeAction traced(Trace& trace) {
  return [&trace](const std::string& node) {
    trace.add("start " + node);
    trace.add("end " + node);
    return Status(ok_unit());
  };
}

TEST(Walker, StartsNodeAfterItsDependencies) {
  Graph graph = web_graph();
  Trace trace;

  auto report = walk(graph, traced(trace), {});

  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->succeeded.size(), graph.size());
  for (const std::string& node : graph.ids()) {
    for (const std::string& dependency : graph.dependencies_of(node)) {
      EXPECT_LT(trace.position("end " + dependency), trace.position("start " + node)) << dependency << " -> " << node;
    }
  }
}

TEST(Walker, ReverseWalkStartsNodeAfterItsDependents) {
  Graph graph = web_graph();
  Trace trace;
  WalkOptions options;
  options.direction = Direction::reverse;

  auto report = walk(graph, traced(trace), options);

  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->succeeded.front(), "listener");
  EXPECT_EQ(report->succeeded.back(), "vpc");
  for (const std::string& node : graph.ids()) {
    for (const std::string& dependency : graph.dependencies_of(node)) {
      EXPECT_LT(trace.position("end " + node), trace.position("start " + dependency)) << node << " -> " << dependency;
    }
  }
}

TEST(Walker, RunsIndependentNodesConcurrently) {
  Graph graph;
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(graph.add_node(id).ok());
  Rendezvous all_started(3);
  std::mutex mutex;
  std::map<std::string, std::pair<steady_clock::time_point, steady_clock::time_point>> spans;

  auto report = walk(graph, [&](const std::string& node) {
    const auto start = steady_clock::now();
    const bool met = all_started.arrive_and_wait();
    const auto end = steady_clock::now();
    std::lock_guard lock(mutex);
    spans[node] = {start, end};
    return met ? Status(ok_unit()) : Status(fail(make_error("test.alone", node + " ran alone")));
  });

  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << "nodes did not run at the same time";
  // The three [start, end] intervals overlap: the latest start precedes the earliest end.
  steady_clock::time_point latest_start = steady_clock::time_point::min();
  steady_clock::time_point earliest_end = steady_clock::time_point::max();
  for (const auto& [node, span] : spans) {
    latest_start = std::max(latest_start, span.first);
    earliest_end = std::min(earliest_end, span.second);
  }
  EXPECT_LT(latest_start, earliest_end);
}

TEST(Walker, NeverExceedsMaxWorkers) {
  Graph graph;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(graph.add_node("n" + std::to_string(i)).ok());
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::mutex mutex;
  std::condition_variable wake;
  WalkOptions options;
  options.max_workers = 3;

  auto report = walk(
      graph,
      [&](const std::string&) {
        const int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        // Hold the worker until three ran together once, so that a fourth
        // would have had every chance to start alongside them.
        std::unique_lock lock(mutex);
        wake.notify_all();
        const bool met = wake.wait_for(lock, std::chrono::seconds(10), [&] { return peak.load() >= 3; });
        --running;
        return met ? Status(ok_unit()) : Status(fail(make_error("test.peak", "fewer than 3 ran together")));
      },
      options);

  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(peak.load(), 3);
}

TEST(Walker, StopsStartingAfterFailure) {
  Graph graph = web_graph();
  WalkOptions options;
  options.max_workers = 1;

  auto report = walk(
      graph,
      [](const std::string& node) {
        if (node == "subnet_a") return Status(fail(make_error("test.create", "CreateSubnet failed")));
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  EXPECT_EQ(report->succeeded, (std::vector<std::string>{"vpc"}));
  EXPECT_EQ(report->failed, (std::vector<std::string>{"subnet_a"}));
  EXPECT_EQ(report->errors.at("subnet_a").code, "test.create");
  EXPECT_EQ(report->skipped.at("ec2"), "subnet_a");
  EXPECT_EQ(report->skipped.at("listener"), "subnet_a");
  EXPECT_EQ(report->skipped.size(), 4u);  // ec2, rds, alb, listener
  EXPECT_EQ(report->not_started, (std::vector<std::string>{"subnet_b", "sg"}));
}

TEST(Walker, LetsRunningNodeFinishAfterFailure) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("slow").ok());
  ASSERT_TRUE(graph.add_node("broken").ok());
  ASSERT_TRUE(graph.add_node("after_slow", {"slow"}).ok());
  std::mutex mutex;
  std::condition_variable wake;
  bool failure_reported = false;
  WalkOptions options;
  options.max_workers = 2;
  options.on_event = [&](const NodeEvent& event) {
    if (event.kind != NodeEvent::Kind::failed) return;
    std::lock_guard lock(mutex);
    failure_reported = true;
    wake.notify_all();
  };

  auto report = walk(
      graph,
      [&](const std::string& node) {
        if (node == "broken") return Status(fail(make_error("test.broken", "broken")));
        if (node == "slow") {
          std::unique_lock lock(mutex);
          wake.wait_for(lock, std::chrono::seconds(10), [&] { return failure_reported; });
        }
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->failed, (std::vector<std::string>{"broken"}));
  EXPECT_EQ(report->succeeded, (std::vector<std::string>{"slow"}));
  EXPECT_EQ(report->not_started, (std::vector<std::string>{"after_slow"}));
  EXPECT_TRUE(report->skipped.empty());
}

TEST(Walker, ContinuesIndependentBranchesWhenAsked) {
  Graph graph = web_graph();
  WalkOptions options;
  options.direction = Direction::reverse;
  options.continue_after_failure = true;
  options.max_workers = 2;

  auto report = walk(
      graph,
      [](const std::string& node) {
        if (node == "ec2") return Status(fail(make_error("test.delete", "TerminateInstances failed")));
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  std::vector<std::string> succeeded = report->succeeded;
  std::sort(succeeded.begin(), succeeded.end());
  EXPECT_EQ(succeeded, (std::vector<std::string>{"alb", "listener", "rds", "subnet_b"}));
  EXPECT_EQ(report->failed, (std::vector<std::string>{"ec2"}));
  EXPECT_EQ(report->skipped, (std::map<std::string, std::string>{{"subnet_a", "ec2"}, {"sg", "ec2"}, {"vpc", "ec2"}}));
  EXPECT_TRUE(report->not_started.empty());
}

TEST(Walker, CancelFlagStopsNewStarts) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("first").ok());
  ASSERT_TRUE(graph.add_node("second", {"first"}).ok());
  ASSERT_TRUE(graph.add_node("third", {"second"}).ok());
  std::atomic<bool> cancel{false};
  WalkOptions options;
  options.cancel = &cancel;

  auto report = walk(
      graph,
      [&](const std::string&) {
        cancel = true;
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->cancelled);
  EXPECT_EQ(report->succeeded, (std::vector<std::string>{"first"}));
  EXPECT_EQ(report->not_started, (std::vector<std::string>{"second", "third"}));
  EXPECT_FALSE(report->ok());
}

TEST(Walker, CancelledBeforeStartRunsNothing) {
  Graph graph = web_graph();
  std::atomic<bool> cancel{true};
  std::atomic<int> calls{0};
  WalkOptions options;
  options.cancel = &cancel;

  auto report = walk(
      graph,
      [&](const std::string&) {
        ++calls;
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(report->not_started.size(), graph.size());
}

TEST(Walker, ReportsThrownExceptionAsFailure) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("thrower").ok());

  auto report = walk(graph, [](const std::string&) -> Status { throw std::runtime_error("boom"); });

  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->failed, (std::vector<std::string>{"thrower"}));
  EXPECT_EQ(report->errors.at("thrower").code, "graph.node_threw");
  EXPECT_EQ(report->errors.at("thrower").message, "The action of node thrower threw: boom.");
}

TEST(Walker, EmitsEventPerNodeTransition) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("ok").ok());
  ASSERT_TRUE(graph.add_node("bad").ok());
  ASSERT_TRUE(graph.add_node("blocked", {"bad"}).ok());
  std::vector<NodeEvent> events;
  WalkOptions options;
  options.max_workers = 1;
  options.continue_after_failure = true;
  options.on_event = [&](const NodeEvent& event) { events.push_back(event); };

  auto report = walk(
      graph,
      [](const std::string& node) {
        if (node == "bad") return Status(fail(make_error("test.bad", "bad")));
        return Status(ok_unit());
      },
      options);

  ASSERT_TRUE(report.ok());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kind, NodeEvent::Kind::started);
  EXPECT_EQ(events[0].node, "ok");
  EXPECT_EQ(events[1].kind, NodeEvent::Kind::succeeded);
  EXPECT_EQ(events[2].kind, NodeEvent::Kind::started);
  EXPECT_EQ(events[2].node, "bad");
  EXPECT_EQ(events[3].kind, NodeEvent::Kind::failed);
  ASSERT_TRUE(events[3].error.has_value());
  EXPECT_EQ(events[3].error->code, "test.bad");
  EXPECT_EQ(events[4].kind, NodeEvent::Kind::skipped);
  EXPECT_EQ(events[4].node, "blocked");
  EXPECT_EQ(events[4].blocked_by, "bad");
}

TEST(Walker, RejectsInvalidGraph) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("a", {"b"}).ok());
  ASSERT_TRUE(graph.add_node("b", {"a"}).ok());

  auto report = walk(graph, [](const std::string&) { return Status(ok_unit()); });

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "graph.cycle");
}

TEST(Walker, RejectsZeroWorkers) {
  Graph graph = web_graph();
  WalkOptions options;
  options.max_workers = 0;

  auto report = walk(
      graph, [](const std::string&) { return Status(ok_unit()); }, options);

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "graph.invalid_options");
}

TEST(Walker, EmptyGraphSucceeds) {
  Graph graph;
  auto report = walk(graph, [](const std::string&) { return Status(ok_unit()); });
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_TRUE(report->succeeded.empty());
}

}  // namespace
}  // namespace hivemind::graph
