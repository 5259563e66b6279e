#include "state/model.h"

#include <gtest/gtest.h>

#include <set>

namespace hivemind::state {
namespace {

TEST(DeploymentId, HasPrefixSlugAndSuffix) {
  const std::string id = make_deployment_id("My Shop_API");
  ASSERT_EQ(id.rfind("hm-my-shop-api-", 0), 0u) << id;
  EXPECT_EQ(id.size(), std::string("hm-my-shop-api-").size() + 6);
  EXPECT_TRUE(is_valid_deployment_id(id)) << id;
}

TEST(DeploymentId, CutsLongAppNameAndTrailingDash) {
  const std::string id = make_deployment_id("a-very-long-application-name-indeed");
  EXPECT_EQ(id.substr(0, id.size() - 7), "hm-a-very-long-applicat");
  EXPECT_TRUE(is_valid_deployment_id(id)) << id;
  EXPECT_TRUE(is_valid_deployment_id(make_deployment_id("abcdefghijklmnopqrs-tuv")));
}

TEST(DeploymentId, FallsBackForEmptySlug) {
  const std::string id = make_deployment_id("!!!");
  EXPECT_EQ(id.substr(0, 7), "hm-app-");
  EXPECT_TRUE(is_valid_deployment_id(id));
}

TEST(DeploymentId, DiffersBetweenCalls) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(make_deployment_id("shop"));
  // 100 draws from 2^30 values repeat with probability below 1e-5.
  EXPECT_EQ(ids.size(), 100u);
}

TEST(DeploymentId, RejectsMalformedIds) {
  for (const char* id : {"", "hm-shop", "hm-shop-abc", "hm--abcdef", "hm-shop-ABCDEF", "hm-shop-abcde1",
                         "xx-shop-abcdef", "hm-../x-abcdef", "hm-shop/-abcdef", "hm-shop--abcdef"}) {
    EXPECT_FALSE(is_valid_deployment_id(id)) << id;
  }
  EXPECT_TRUE(is_valid_deployment_id("hm-shop-abc234"));
}

TEST(ModelNames, RoundTripEveryValue) {
  for (auto status : {DeploymentStatus::pending, DeploymentStatus::deploying, DeploymentStatus::deployed,
                      DeploymentStatus::failed, DeploymentStatus::rolling_back, DeploymentStatus::rolled_back,
                      DeploymentStatus::destroying, DeploymentStatus::destroyed, DeploymentStatus::updating}) {
    EXPECT_EQ(parse_deployment_status(to_string(status)), status) << to_string(status);
  }
  for (auto stage : {StageName::analyze, StageName::build, StageName::provision, StageName::deploy, StageName::secure,
                     StageName::verify, StageName::monitor, StageName::report}) {
    EXPECT_EQ(parse_stage_name(to_string(stage)), stage);
  }
  for (auto status : {ResourceStatus::creating, ResourceStatus::created, ResourceStatus::create_failed,
                      ResourceStatus::deleting, ResourceStatus::deleted, ResourceStatus::delete_failed}) {
    EXPECT_EQ(parse_resource_status(to_string(status)), status);
  }
  EXPECT_EQ(parse_endpoint_kind("sandbox"), EndpointKind::sandbox);
  EXPECT_EQ(parse_stage_outcome("cancelled"), StageOutcome::cancelled);
  EXPECT_EQ(parse_deployment_status("Deployed"), std::nullopt);
}

}  // namespace
}  // namespace hivemind::state
