#include "common/result.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace hivemind {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return fail(make_error("input.not_positive", "The value must be positive.", "Pass 1 or more."));
  return value;
}

TEST(Result, HoldsValueOnSuccess) {
  Result<int> result = parse_positive(4);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 4);
}

TEST(Result, HoldsErrorOnFailure) {
  Result<int> result = parse_positive(-1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "input.not_positive");
  EXPECT_EQ(result.error().describe(), "The value must be positive. Pass 1 or more.");
}

TEST(Result, TellsErrorFromValueOfSameType) {
  Result<std::string, std::string> value = std::string("v");
  Result<std::string, std::string> failure = fail(std::string("e"));
  EXPECT_TRUE(value.ok());
  EXPECT_FALSE(failure.ok());
  EXPECT_EQ(failure.error(), "e");
}

TEST(Strings, SplitKeepsEmptyParts) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(trim("  x \n"), "x");
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
}

}  // namespace
}  // namespace hivemind
