#include "cli/conductor_setup.h"

#include <gtest/gtest.h>

namespace hivemind::cli {
namespace {

TEST(IsAwsEndpoint, AcceptsAwsHosts) {
  EXPECT_TRUE(is_aws_endpoint("https://ec2.us-east-1.amazonaws.com"));
  EXPECT_TRUE(is_aws_endpoint("https://ec2.cn-north-1.amazonaws.com.cn/"));
  EXPECT_TRUE(is_aws_endpoint("https://ec2.eu-west-1.api.aws"));
}

TEST(IsAwsEndpoint, RejectsEmulatorsAndLookalikes) {
  EXPECT_FALSE(is_aws_endpoint("http://127.0.0.1:47100"));
  EXPECT_FALSE(is_aws_endpoint("http://localhost:5000/"));
  EXPECT_FALSE(is_aws_endpoint("http://[::1]:5000"));
  EXPECT_FALSE(is_aws_endpoint("https://amazonaws.com.example.org"));
}

TEST(ParseTargetChoice, ReadsTheThreeValues) {
  EXPECT_EQ(parse_target_choice("auto"), TargetChoice::kAuto);
  EXPECT_EQ(parse_target_choice("sandbox"), TargetChoice::kSandbox);
  EXPECT_EQ(parse_target_choice("aws"), TargetChoice::kAws);
  EXPECT_FALSE(parse_target_choice("AWS").has_value());
}

}  // namespace
}  // namespace hivemind::cli
