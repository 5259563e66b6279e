// Typed Resource Groups Tagging call against moto_server: finding every
// resource of one deployment by its tag, whatever the service.

#include "aws/tagging.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "aws/ec2.h"
#include "aws/logs.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class TaggingTest : public MotoTest {};

bool contains_arn_part(const std::vector<tagging::TaggedResource>& resources, const std::string& part) {
  return std::any_of(resources.begin(), resources.end(), [&](const tagging::TaggedResource& resource) {
    return resource.arn.find(part) != std::string::npos;
  });
}

TEST_F(TaggingTest, FindsResourcesOfOneDeploymentAcrossServices) {
  auto vpc = ec2::create_vpc(client(), "10.60.0.0/16", kTestTags);
  ASSERT_AWS_OK(vpc);
  ASSERT_AWS_OK(logs::create_log_group(client(), "/hivemind/hm-test-abc123", kTestTags));
  auto other = ec2::create_vpc(client(), "10.61.0.0/16", {{"hivemind:deployment", "hm-other"}});
  ASSERT_AWS_OK(other);

  auto found = tagging::get_resources(client(), {{"hivemind:deployment", {"hm-test-abc123"}}});
  ASSERT_AWS_OK(found);
  EXPECT_EQ(found->size(), 2u);
  EXPECT_TRUE(contains_arn_part(*found, vpc->id));
  EXPECT_TRUE(contains_arn_part(*found, "log-group:/hivemind/hm-test-abc123"));
  EXPECT_FALSE(contains_arn_part(*found, other->id));
  for (const tagging::TaggedResource& resource : *found) {
    EXPECT_EQ(find_tag(resource.tags, "hivemind:deployment"), "hm-test-abc123") << resource.arn;
  }
}

TEST_F(TaggingTest, ResourceTypeFilterNarrowsTheSearch) {
  ASSERT_AWS_OK(ec2::create_vpc(client(), "10.62.0.0/16", kTestTags));
  ASSERT_AWS_OK(logs::create_log_group(client(), "/hivemind/hm-test-abc123", kTestTags));

  auto found = tagging::get_resources(client(), {{"hivemind:deployment", {"hm-test-abc123"}}}, {"ec2:vpc"});
  ASSERT_AWS_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_NE(found->front().arn.find(":vpc/"), std::string::npos) << found->front().arn;
}

TEST_F(TaggingTest, PagesToTheEnd) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto vpc = ec2::create_vpc(client(), "10.7" + std::to_string(i) + ".0.0/16", kTestTags);
    ASSERT_AWS_OK(vpc);
    ids.push_back(vpc->id);
  }

  auto found = tagging::get_resources(client(), {{"hivemind:deployment", {}}}, {}, 2);
  ASSERT_AWS_OK(found);
  EXPECT_EQ(found->size(), 5u);
  for (const std::string& id : ids) EXPECT_TRUE(contains_arn_part(*found, id)) << id;
}

}  // namespace
}  // namespace hivemind::aws
