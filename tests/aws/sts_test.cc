// Typed STS call against moto_server.

#include "aws/sts.h"

#include <gtest/gtest.h>

#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class StsTest : public MotoTest {};

TEST_F(StsTest, CallerIdentityNamesAccountAndArn) {
  auto identity = sts::get_caller_identity(client());
  ASSERT_AWS_OK(identity);
  EXPECT_EQ(identity->account.size(), 12u);
  EXPECT_EQ(identity->arn.rfind("arn:aws:", 0), 0u) << identity->arn;
  EXPECT_NE(identity->arn.find(identity->account), std::string::npos) << identity->arn;
  EXPECT_FALSE(identity->user_id.empty());
}

}  // namespace
}  // namespace hivemind::aws
