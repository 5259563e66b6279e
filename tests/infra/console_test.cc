#include "infra/console.h"

#include <gtest/gtest.h>

namespace hivemind::infra {
namespace {

TEST(ConsoleUrl, PointsAtTheResourcePage) {
  EXPECT_EQ(console_url("ec2:vpc", "vpc-0abc", "eu-west-1"),
            "https://eu-west-1.console.aws.amazon.com/vpcconsole/home?region=eu-west-1#VpcDetails:VpcId=vpc-0abc");
  EXPECT_EQ(console_url("rds:db-instance", "hm-shop-aaaaaa-database", "us-east-1"),
            "https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#database:id=hm-shop-aaaaaa-database");
}

TEST(ConsoleUrl, UnknownKindHasNoPage) { EXPECT_EQ(console_url("s3:bucket", "b", "us-east-1"), ""); }

}  // namespace
}  // namespace hivemind::infra
