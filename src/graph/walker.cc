#include "graph/walker.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace hivemind::graph {
namespace {

enum class NodeState { waiting, running, succeeded, failed };

// One walk's shared state. Worker threads take ready nodes from the queue,
// run them unlocked, then release the nodes that waited on them.
class Walk {
 public:
  Walk(const Graph& graph, Adjacency adjacency, const NodeAction& action, const WalkOptions& options)
      : graph_(graph), adjacency_(std::move(adjacency)), action_(action), options_(options) {
    const std::size_t count = graph.size();
    states_.assign(count, NodeState::waiting);
    blockers_.resize(count);
    for (std::size_t node = 0; node < count; ++node) {
      blockers_[node] = releasers_of(node).size();
    }
    for (std::size_t node : ordered_nodes()) {
      if (blockers_[node] == 0) ready_.push_back(node);
    }
    finished_ = ready_.empty() || stop_starting();
  }

  WalkReport run() {
    const std::size_t count = std::min(options_.max_workers, graph_.size());
    std::vector<std::thread> workers;
    for (std::size_t i = 0; i < count; ++i) workers.emplace_back([this] { work(); });
    for (auto& worker : workers) worker.join();
    return build_report();
  }

 private:
  // Nodes that must succeed before `node` may start.
  const std::vector<std::size_t>& releasers_of(std::size_t node) const {
    return options_.direction == Direction::forward ? adjacency_.dependencies[node] : adjacency_.dependents[node];
  }

  // Nodes that `node` holds back until it succeeds.
  const std::vector<std::size_t>& waiters_of(std::size_t node) const {
    return options_.direction == Direction::forward ? adjacency_.dependents[node] : adjacency_.dependencies[node];
  }

  // Every node in the order of the walk's direction.
  std::vector<std::size_t> ordered_nodes() const {
    std::vector<std::size_t> order = adjacency_.topological_order;
    if (options_.direction == Direction::reverse) std::reverse(order.begin(), order.end());
    return order;
  }

  bool cancelled() const { return options_.cancel != nullptr && options_.cancel->load(); }

  // REQUIRES: mutex_ held, or the constructor running.
  bool stop_starting() const { return cancelled() || (failure_seen_ && !options_.continue_after_failure); }

  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return finished_ || (!ready_.empty() && !stop_starting()); });
      if (finished_) return;

      const std::size_t node = ready_.front();
      ready_.pop_front();
      states_[node] = NodeState::running;
      ++running_;

      lock.unlock();
      emit(NodeEvent{NodeEvent::Kind::started, graph_.ids()[node], {}, std::nullopt, {}});
      const auto started = std::chrono::steady_clock::now();
      Status outcome = run_action(node);
      const auto duration = std::chrono::steady_clock::now() - started;
      lock.lock();

      --running_;
      record(node, outcome, duration, lock);
      if (running_ == 0 && (ready_.empty() || stop_starting())) finished_ = true;
      wake_.notify_all();
    }
  }

  Status run_action(std::size_t node) {
    const std::string& id = graph_.ids()[node];
    try {
      return action_(id);
    } catch (const std::exception& thrown) {
      return fail(make_error("graph.node_threw", fmt::format("The action of node {} threw: {}.", id, thrown.what())));
    } catch (...) {
      return fail(
          make_error("graph.node_threw", fmt::format("The action of node {} threw a non-standard exception.", id)));
    }
  }

  // Records a finished node and queues the waiters it released. Emits the
  // event with mutex_ released, so a slow callback never holds up workers.
  void record(std::size_t node, const Status& outcome, std::chrono::nanoseconds duration,
              std::unique_lock<std::mutex>& lock) {
    const std::string& id = graph_.ids()[node];
    NodeEvent event{NodeEvent::Kind::succeeded, id, duration, std::nullopt, {}};

    if (outcome.ok()) {
      states_[node] = NodeState::succeeded;
      succeeded_.push_back(id);
      for (std::size_t waiter : waiters_of(node)) {
        if (--blockers_[waiter] == 0) ready_.push_back(waiter);
      }
    } else {
      states_[node] = NodeState::failed;
      failed_.push_back(id);
      errors_.emplace(id, outcome.error());
      failure_seen_ = true;
      event.kind = NodeEvent::Kind::failed;
      event.error = outcome.error();
    }

    lock.unlock();
    emit(event);
    lock.lock();
  }

  void emit(const NodeEvent& event) {
    if (!options_.on_event) return;
    std::lock_guard serialize(event_mutex_);
    options_.on_event(event);
  }

  // Sorts the nodes that never started into skipped (they wait on a failed
  // node) and not started (the walk stopped first). Runs after the workers.
  WalkReport build_report() {
    std::vector<std::string> blocked_by(graph_.size());
    for (std::size_t node : ordered_nodes()) {
      if (states_[node] == NodeState::failed) blocked_by[node] = graph_.ids()[node];
      if (blocked_by[node].empty()) continue;
      for (std::size_t waiter : waiters_of(node)) {
        if (blocked_by[waiter].empty()) blocked_by[waiter] = blocked_by[node];
      }
    }

    WalkReport report;
    report.succeeded = std::move(succeeded_);
    report.failed = std::move(failed_);
    report.errors = std::move(errors_);
    report.cancelled = cancelled();
    for (std::size_t node : ordered_nodes()) {
      if (states_[node] != NodeState::waiting) continue;
      const std::string& id = graph_.ids()[node];
      if (blocked_by[node].empty()) {
        report.not_started.push_back(id);
      } else {
        report.skipped.emplace(id, blocked_by[node]);
        emit(NodeEvent{NodeEvent::Kind::skipped, id, {}, std::nullopt, blocked_by[node]});
      }
    }
    return report;
  }

  const Graph& graph_;
  const Adjacency adjacency_;
  const NodeAction& action_;
  const WalkOptions& options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<NodeState> states_;        // GUARDED_BY(mutex_)
  std::vector<std::size_t> blockers_;    // GUARDED_BY(mutex_): releasers not yet succeeded
  std::deque<std::size_t> ready_;        // GUARDED_BY(mutex_)
  std::size_t running_ = 0;              // GUARDED_BY(mutex_)
  bool failure_seen_ = false;            // GUARDED_BY(mutex_)
  bool finished_ = false;                // GUARDED_BY(mutex_)
  std::vector<std::string> succeeded_;   // GUARDED_BY(mutex_)
  std::vector<std::string> failed_;      // GUARDED_BY(mutex_)
  std::map<std::string, Error> errors_;  // GUARDED_BY(mutex_)

  std::mutex event_mutex_;  // serializes on_event calls
};

}  // namespace

Result<WalkReport> walk(const Graph& graph, const NodeAction& action, const WalkOptions& options) {
  if (options.max_workers == 0) {
    return fail(make_error("graph.invalid_options", "The graph walk needs at least one worker (max_workers is 0).",
                           "Pass max_workers of 1 or more."));
  }
  auto adjacency = graph.resolve();
  if (!adjacency.ok()) return fail(adjacency.error());

  Walk state(graph, std::move(adjacency).value(), action, options);
  return state.run();
}

}  // namespace hivemind::graph
