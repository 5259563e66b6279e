// Renaming resource records, as a blue-green update does when the new
// instance takes over the name "instance".

#include <gtest/gtest.h>

#include "state/store.h"
#include "state/store_fixture.h"

namespace hivemind::state {
namespace {

using testing::open_store;
using testing::sample_deployment;

class StoreRenameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path() / "state");
    ASSERT_NE(store_, nullptr);
    deployment_ = sample_deployment();
    ASSERT_TRUE(store_->create_deployment(deployment_).ok());
    for (const char* name : {"instance", "instance_green"}) {
      ASSERT_TRUE(store_->record_intent({deployment_.id, name, "ec2:instance", "", 7.5}).ok());
    }
    ASSERT_TRUE(store_->record_created(deployment_.id, "instance", "i-blue", "", "{}").ok());
    ASSERT_TRUE(store_->record_created(deployment_.id, "instance_green", "i-green", "", "{}").ok());
  }

  std::string physical_id(const std::string& name) {
    auto found = store_->find_resource(deployment_.id, name);
    if (!found.ok() || !found->has_value()) return "(none)";
    return (*found)->physical_id;
  }

  hivemind::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  Deployment deployment_;
};

TEST_F(StoreRenameTest, HandsNameToReplacement) {
  Status renamed = store_->rename_resources(deployment_.id,
                                            {{"instance", "instance_retired_i-blue"}, {"instance_green", "instance"}});
  ASSERT_TRUE(renamed.ok()) << renamed.error().describe();

  EXPECT_EQ(physical_id("instance"), "i-green");
  EXPECT_EQ(physical_id("instance_retired_i-blue"), "i-blue");
  EXPECT_EQ(physical_id("instance_green"), "(none)");
  auto moved = store_->find_resource(deployment_.id, "instance");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ((*moved)->status, ResourceStatus::created);
  EXPECT_DOUBLE_EQ((*moved)->estimated_monthly_cost_usd, 7.5);
}

TEST_F(StoreRenameTest, TakenNameChangesNothing) {
  Status renamed = store_->rename_resources(deployment_.id, {{"instance", "kept"}, {"instance_green", "kept"}});
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().code, "state.rename_rejected");
  EXPECT_NE(renamed.error().message.find("kept"), std::string::npos) << renamed.error().message;

  // The first rename was rolled back with the second, and the store still writes.
  EXPECT_EQ(physical_id("instance"), "i-blue");
  EXPECT_EQ(physical_id("instance_green"), "i-green");
  EXPECT_EQ(physical_id("kept"), "(none)");
  EXPECT_FALSE(store_->latched_error().has_value());
  EXPECT_TRUE(store_->set_attribute(deployment_.id, "release", "v2").ok());
}

TEST_F(StoreRenameTest, MissingSourceIsRejected) {
  Status renamed = store_->rename_resources(deployment_.id, {{"instance_blue", "instance_old"}});
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().code, "state.rename_rejected");
  EXPECT_EQ(physical_id("instance_old"), "(none)");
}

}  // namespace
}  // namespace hivemind::state
