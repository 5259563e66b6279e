#pragma once

// Helpers shared by the typed-call tests (ec2_test.cc, elbv2_test.cc, ...).

#include <gtest/gtest.h>

#include <string>

#include "aws/call_support.h"

// Fails the test with the AWS error's code, message and request id when
// `result` holds an error.
#define ASSERT_AWS_OK(result) ASSERT_TRUE((result).ok()) << (result).error().to_error().describe()
#define EXPECT_AWS_OK(result) EXPECT_TRUE((result).ok()) << (result).error().to_error().describe()

namespace hivemind::aws {

// The tag every test resource carries, as a deployment id would be.
inline const Tags kTestTags{{"hivemind:deployment", "hm-test-abc123"}, {"hivemind:resource", "test"}};

// Returns the error code of a failed result, or "ok" when it succeeded.
template <typename Result>
std::string code_of(const Result& result) {
  return result.ok() ? std::string("ok") : result.error().code;
}

}  // namespace hivemind::aws
