#include "graph/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <queue>

namespace hivemind::graph {
namespace {

// Node colours of the depth-first search that finds a cycle.
enum class Mark { unvisited, on_path, done };

// Returns the nodes of one cycle, first node repeated at the end, or an empty
// list when the graph has none. Iterative, so a long chain cannot overflow
// the stack.
std::vector<std::size_t> find_cycle(const std::vector<std::vector<std::size_t>>& dependencies) {
  std::vector<Mark> marks(dependencies.size(), Mark::unvisited);
  for (std::size_t start = 0; start < dependencies.size(); ++start) {
    if (marks[start] != Mark::unvisited) continue;

    // Each frame is a node and the index of its next dependency to visit.
    std::vector<std::pair<std::size_t, std::size_t>> path{{start, 0}};
    marks[start] = Mark::on_path;
    while (!path.empty()) {
      auto& [node, next] = path.back();
      if (next == dependencies[node].size()) {
        marks[node] = Mark::done;
        path.pop_back();
        continue;
      }

      const std::size_t dependency = dependencies[node][next++];
      if (marks[dependency] == Mark::on_path) {
        std::vector<std::size_t> cycle;
        auto from =
            std::find_if(path.begin(), path.end(), [&](const auto& frame) { return frame.first == dependency; });
        for (auto it = from; it != path.end(); ++it) cycle.push_back(it->first);
        cycle.push_back(dependency);
        return cycle;
      }
      if (marks[dependency] == Mark::unvisited) {
        marks[dependency] = Mark::on_path;
        path.emplace_back(dependency, 0);
      }
    }
  }
  return {};
}

// Kahn's algorithm with a min-heap of indexes, so ties keep add_node() order.
std::vector<std::size_t> order_by_dependencies(const Adjacency& adjacency) {
  const std::size_t count = adjacency.dependencies.size();
  std::vector<std::size_t> waiting(count);
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t node = 0; node < count; ++node) {
    waiting[node] = adjacency.dependencies[node].size();
    if (waiting[node] == 0) ready.push(node);
  }

  std::vector<std::size_t> order;
  while (!ready.empty()) {
    const std::size_t node = ready.top();
    ready.pop();
    order.push_back(node);
    for (std::size_t dependent : adjacency.dependents[node]) {
      if (--waiting[dependent] == 0) ready.push(dependent);
    }
  }
  return order;
}

}  // namespace

Status Graph::add_node(const std::string& id, std::vector<std::string> depends_on) {
  if (id.empty()) return fail(make_error("graph.empty_id", "A graph node needs a non-empty id."));
  if (contains(id)) {
    return fail(make_error("graph.duplicate_node", fmt::format("The graph already has a node named {}.", id),
                           "Give each node a unique id."));
  }

  index_.emplace(id, ids_.size());
  ids_.push_back(id);
  dependency_names_.push_back(std::move(depends_on));
  return ok_unit();
}

Result<Adjacency> Graph::resolve() const {
  Adjacency adjacency;
  adjacency.dependencies.resize(ids_.size());
  adjacency.dependents.resize(ids_.size());

  for (std::size_t node = 0; node < ids_.size(); ++node) {
    for (const std::string& name : dependency_names_[node]) {
      auto found = index_.find(name);
      if (found == index_.end()) {
        return fail(make_error("graph.unknown_dependency",
                               fmt::format("Node {} depends on {}, which is not in the graph.", ids_[node], name),
                               "Add that node, or remove the dependency."));
      }
      adjacency.dependencies[node].push_back(found->second);
      adjacency.dependents[found->second].push_back(node);
    }
  }

  const std::vector<std::size_t> cycle = find_cycle(adjacency.dependencies);
  if (!cycle.empty()) {
    std::vector<std::string> names;
    for (std::size_t node : cycle) names.push_back(ids_[node]);
    return fail(make_error(
        "graph.cycle",
        fmt::format("The graph has a dependency cycle: {} (each node depends on the next).", fmt::join(names, " -> ")),
        "Remove one of these dependencies."));
  }

  adjacency.topological_order = order_by_dependencies(adjacency);
  return adjacency;
}

Status Graph::validate() const {
  auto resolved = resolve();
  if (!resolved.ok()) return fail(resolved.error());
  return ok_unit();
}

Result<std::vector<std::string>> Graph::topological_order() const {
  auto resolved = resolve();
  if (!resolved.ok()) return fail(resolved.error());

  std::vector<std::string> order;
  for (std::size_t node : resolved->topological_order) order.push_back(ids_[node]);
  return order;
}

const std::vector<std::string>& Graph::dependencies_of(const std::string& id) const {
  return dependency_names_[index_.at(id)];
}

}  // namespace hivemind::graph
