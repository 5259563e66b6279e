#pragma once

// A dependency graph of named nodes, generic over what the nodes stand for.
// The walker (walker.h) runs an action per node in dependency order; the AWS
// layer builds graphs of resources, but nothing here depends on AWS.
//
// Thread safety: a Graph is built by one thread; once built, its const
// methods may be called from any number of threads.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::graph {

// The edges of a validated graph by node index (the order of add_node()).
struct Adjacency {
  std::vector<std::vector<std::size_t>> dependencies;  // what each node waits for
  std::vector<std::vector<std::size_t>> dependents;    // what waits for each node
  std::vector<std::size_t> topological_order;          // dependencies first, ties in add_node() order
};

class Graph {
 public:
  // Adds a node that runs after every node in `depends_on`. The dependencies
  // may be added later; validate() checks that they all exist.
  // Errors: graph.duplicate_node, graph.empty_id.
  Status add_node(const std::string& id, std::vector<std::string> depends_on = {});

  // Checks that every dependency names a node and that there is no cycle,
  // and returns the edges by index.
  // Errors: graph.unknown_dependency names the node and the missing id;
  // graph.cycle names the nodes of one cycle in order, e.g. "a -> b -> a".
  Result<Adjacency> resolve() const;
  Status validate() const;

  // Returns the node ids, each after its dependencies.
  Result<std::vector<std::string>> topological_order() const;

  bool contains(const std::string& id) const { return index_.count(id) != 0; }
  std::size_t size() const { return ids_.size(); }
  const std::vector<std::string>& ids() const { return ids_; }  // in order of add_node()
  const std::vector<std::string>& dependencies_of(const std::string& id) const;

 private:
  std::vector<std::string> ids_;
  std::vector<std::vector<std::string>> dependency_names_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace hivemind::graph
