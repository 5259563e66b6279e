#include "graph/graph.h"

#include <gtest/gtest.h>

namespace hivemind::graph {
namespace {

TEST(Graph, OrdersDependenciesFirst) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("ec2", {"subnet", "sg"}).ok());
  ASSERT_TRUE(graph.add_node("subnet", {"vpc"}).ok());
  ASSERT_TRUE(graph.add_node("sg", {"vpc"}).ok());
  ASSERT_TRUE(graph.add_node("vpc").ok());

  auto order = graph.topological_order();
  ASSERT_TRUE(order.ok()) << order.error().describe();
  EXPECT_EQ(*order, (std::vector<std::string>{"vpc", "subnet", "sg", "ec2"}));
}

TEST(Graph, RejectsDuplicateNode) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("vpc").ok());
  auto again = graph.add_node("vpc");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "graph.duplicate_node");
}

TEST(Graph, RejectsEmptyId) {
  Graph graph;
  auto added = graph.add_node("");
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, "graph.empty_id");
}

TEST(Graph, NamesUnknownDependency) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("subnet", {"vpc"}).ok());
  auto valid = graph.validate();
  ASSERT_FALSE(valid.ok());
  EXPECT_EQ(valid.error().code, "graph.unknown_dependency");
  EXPECT_EQ(valid.error().message, "Node subnet depends on vpc, which is not in the graph.");
}

TEST(Graph, NamesCycleInOrder) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("a", {"c"}).ok());
  ASSERT_TRUE(graph.add_node("b", {"a"}).ok());
  ASSERT_TRUE(graph.add_node("c", {"b"}).ok());
  ASSERT_TRUE(graph.add_node("free").ok());

  auto valid = graph.validate();
  ASSERT_FALSE(valid.ok());
  EXPECT_EQ(valid.error().code, "graph.cycle");
  EXPECT_EQ(valid.error().message,
            "The graph has a dependency cycle: a -> c -> b -> a (each node depends on the next).");
}

TEST(Graph, NamesCycleBehindAcyclicPrefix) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("root", {"x"}).ok());
  ASSERT_TRUE(graph.add_node("x", {"y"}).ok());
  ASSERT_TRUE(graph.add_node("y", {"x"}).ok());

  auto valid = graph.validate();
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("x -> y -> x"), std::string::npos) << valid.error().message;
  EXPECT_EQ(valid.error().message.find("root"), std::string::npos) << valid.error().message;
}

TEST(Graph, RejectsSelfDependency) {
  Graph graph;
  ASSERT_TRUE(graph.add_node("a", {"a"}).ok());
  auto valid = graph.validate();
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("a -> a"), std::string::npos);
}

TEST(Graph, ValidatesLongChainWithoutRecursion) {
  Graph graph;
  constexpr int kLength = 200000;
  ASSERT_TRUE(graph.add_node("n0").ok());
  for (int i = 1; i < kLength; ++i) {
    ASSERT_TRUE(graph.add_node("n" + std::to_string(i), {"n" + std::to_string(i - 1)}).ok());
  }
  auto order = graph.topological_order();
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->front(), "n0");
  EXPECT_EQ(order->back(), "n" + std::to_string(kLength - 1));
}

}  // namespace
}  // namespace hivemind::graph
