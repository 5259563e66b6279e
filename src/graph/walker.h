#pragma once

// Runs an action on every node of a Graph, in dependency order, with
// independent nodes in parallel on a bounded number of worker threads.
//
// Forward walk (create): a node starts once all its dependencies succeeded.
// Reverse walk (teardown): a node starts once everything that depends on it
// succeeded, so a VPC is deleted only after its subnets are gone.
//
// On a failure the walker starts no new node and lets running nodes finish,
// unless continue_after_failure is set: then it keeps starting nodes that do
// not wait, directly or through others, on a failed node (teardown deletes
// what it can). The cancel flag stops new starts the same way.
//
// Thread safety: walk() may be called from any thread and blocks until every
// node it started has finished. The action runs on several worker threads at
// once, so it must be safe to call concurrently for different nodes. It is
// never called twice for one node. on_event calls never overlap each other,
// because the walker serializes them, but they come from worker threads.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "graph/graph.h"

namespace hivemind::graph {

enum class Direction { forward, reverse };

struct NodeEvent {
  enum class Kind {
    started,
    succeeded,
    failed,
    skipped,  // never started: it waits on a failed node; emitted after the walk
  };

  Kind kind = Kind::started;
  std::string node;
  std::chrono::nanoseconds duration{0};  // of succeeded and failed nodes
  std::optional<Error> error;            // of failed nodes
  std::string blocked_by;                // of skipped nodes: the failed node it waits on
};

struct WalkOptions {
  Direction direction = Direction::forward;
  std::size_t max_workers = 8;  // at least 1
  bool continue_after_failure = false;
  const std::atomic<bool>* cancel = nullptr;  // when set to true, no new node starts
  std::function<void(const NodeEvent&)> on_event;
};

// Does the node's work; an error marks the node failed. An exception thrown
// by the action is caught and reported as a failure with code graph.node_threw.
using NodeAction = std::function<Status(const std::string& node)>;

struct WalkReport {
  std::vector<std::string> succeeded;   // in order of completion
  std::vector<std::string> failed;      // in order of completion
  std::map<std::string, Error> errors;  // of each failed node
  // Never started because they wait, directly or not, on a failed node; each
  // maps to that failed node.
  std::map<std::string, std::string> skipped;
  // Never started because the walk stopped (first failure or cancellation).
  std::vector<std::string> not_started;
  bool cancelled = false;

  bool ok() const { return failed.empty() && skipped.empty() && not_started.empty(); }
};

// Walks `graph`. Returns an error only when the graph is invalid (unknown
// dependency, cycle) or max_workers is 0; a node's failure is in the report.
Result<WalkReport> walk(const Graph& graph, const NodeAction& action, const WalkOptions& options = {});

}  // namespace hivemind::graph
