// Typed RDS calls against moto_server: a private, encrypted DB instance in a
// subnet group, snapshots, deletion with and without a final snapshot.

#include "aws/rds.h"

#include <gtest/gtest.h>

#include "aws/ec2.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class RdsTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    auto vpc = ec2::create_vpc(client(), "10.50.0.0/16", kTestTags);
    ASSERT_AWS_OK(vpc);
    auto zones = ec2::describe_availability_zones(client());
    ASSERT_AWS_OK(zones);
    ASSERT_GE(zones->size(), 2u);
    for (int i = 0; i < 2; ++i) {
      std::string cidr = "10.50." + std::to_string(i + 1) + ".0/24";
      auto subnet = ec2::create_subnet(client(), vpc->id, cidr, (*zones)[static_cast<std::size_t>(i)].name, kTestTags);
      ASSERT_AWS_OK(subnet);
      subnet_ids_.push_back(subnet->id);
    }
    auto group = ec2::create_security_group(client(), "db", "database", vpc->id, kTestTags);
    ASSERT_AWS_OK(group);
    group_id_ = *group;
    ASSERT_AWS_OK(rds::create_subnet_group(client(), "hm-db", "HiveMind test database", subnet_ids_, kTestTags));
  }

  rds::CreateDbInstanceRequest request(const std::string& id) {
    rds::CreateDbInstanceRequest request;
    request.id = id;
    request.engine = "postgres";
    request.db_name = "app";
    request.master_username = "app";
    request.master_password = Secret("correct-horse-battery");
    request.subnet_group_name = "hm-db";
    request.security_group_ids = {group_id_};
    request.tags = kTestTags;
    return request;
  }

  std::vector<std::string> subnet_ids_;
  std::string group_id_;
};

TEST_F(RdsTest, SubnetGroupListsItsSubnets) {
  auto groups = rds::describe_subnet_groups(client(), "hm-db");
  ASSERT_AWS_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  std::vector<std::string> subnets = groups->front().subnet_ids;
  std::sort(subnets.begin(), subnets.end());
  std::vector<std::string> expected = subnet_ids_;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(subnets, expected);
  EXPECT_FALSE(groups->front().vpc_id.empty());
}

TEST_F(RdsTest, DbInstanceIsPrivateEncryptedAndTagged) {
  auto created = rds::create_db_instance(client(), request("hm-db-1"));
  ASSERT_AWS_OK(created);
  EXPECT_EQ(created->engine, "postgres");

  auto described = rds::describe_db_instances(client(), "hm-db-1");
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  const rds::DbInstance& instance = described->front();
  EXPECT_FALSE(instance.publicly_accessible);
  EXPECT_TRUE(instance.storage_encrypted);
  EXPECT_EQ(instance.subnet_group_name, "hm-db");
  EXPECT_EQ(instance.security_group_ids, std::vector<std::string>{group_id_});
  EXPECT_EQ(instance.master_username, "app");
  EXPECT_EQ(instance.allocated_storage_gib, 20);
  EXPECT_FALSE(instance.endpoint_address.empty());
  EXPECT_EQ(find_tag(instance.tags, "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(RdsTest, MysqlEngineIsAccepted) {
  rds::CreateDbInstanceRequest mysql = request("hm-mysql");
  mysql.engine = "mysql";
  auto created = rds::create_db_instance(client(), mysql);
  ASSERT_AWS_OK(created);
  EXPECT_EQ(created->engine, "mysql");
  EXPECT_EQ(created->endpoint_port, 3306);
}

TEST_F(RdsTest, DescribeDbInstancesPagesToTheEnd) {
  for (int i = 0; i < 5; ++i) ASSERT_AWS_OK(rds::create_db_instance(client(), request("hm-page-" + std::to_string(i))));
  // AWS's smallest MaxRecords is 20; moto 5.2.1 accepts 2, which makes three
  // pages out of five instances.
  auto described = rds::describe_db_instances(client(), {}, 2);
  ASSERT_AWS_OK(described);
  EXPECT_EQ(described->size(), 5u);
}

TEST_F(RdsTest, DeleteWithFinalSnapshotKeepsSnapshot) {
  ASSERT_AWS_OK(rds::create_db_instance(client(), request("hm-db-2")));
  auto deleted = rds::delete_db_instance(client(), "hm-db-2", "hm-db-2-final");
  ASSERT_AWS_OK(deleted);

  auto snapshots = rds::describe_db_snapshots(client(), {}, "hm-db-2-final");
  ASSERT_AWS_OK(snapshots);
  ASSERT_EQ(snapshots->size(), 1u);
  EXPECT_EQ(snapshots->front().instance_id, "hm-db-2");
  EXPECT_EQ(code_of(rds::describe_db_instances(client(), "hm-db-2")), "DBInstanceNotFound");
}

TEST_F(RdsTest, DeleteSkippingSnapshotLeavesNone) {
  ASSERT_AWS_OK(rds::create_db_instance(client(), request("hm-db-3")));
  ASSERT_AWS_OK(rds::delete_db_instance(client(), "hm-db-3", ""));

  auto snapshots = rds::describe_db_snapshots(client(), "hm-db-3");
  ASSERT_AWS_OK(snapshots);
  for (const rds::DbSnapshot& snapshot : *snapshots) EXPECT_NE(snapshot.snapshot_type, "manual") << snapshot.id;
}

TEST_F(RdsTest, SnapshotIsTaggedAndDeleted) {
  ASSERT_AWS_OK(rds::create_db_instance(client(), request("hm-db-4")));
  auto snapshot = rds::create_db_snapshot(client(), "hm-db-4-before-update", "hm-db-4", kTestTags);
  ASSERT_AWS_OK(snapshot);
  EXPECT_EQ(snapshot->instance_id, "hm-db-4");

  auto described = rds::describe_db_snapshots(client(), "hm-db-4", "hm-db-4-before-update");
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  EXPECT_EQ(find_tag(described->front().tags, "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(rds::delete_db_snapshot(client(), "hm-db-4-before-update"));
  EXPECT_EQ(code_of(rds::describe_db_snapshots(client(), {}, "hm-db-4-before-update")), "DBSnapshotNotFound");
}

TEST_F(RdsTest, UnknownNamesAreNotFound) {
  EXPECT_EQ(code_of(rds::describe_db_instances(client(), "hm-missing")), "DBInstanceNotFound");
  EXPECT_EQ(code_of(rds::delete_db_instance(client(), "hm-missing", "")), "DBInstanceNotFound");
  EXPECT_EQ(code_of(rds::describe_subnet_groups(client(), "hm-missing")), "DBSubnetGroupNotFoundFault");
  EXPECT_EQ(code_of(rds::delete_db_snapshot(client(), "hm-missing")), "DBSnapshotNotFound");
}

TEST_F(RdsTest, DuplicateInstanceIsAlreadyExists) {
  ASSERT_AWS_OK(rds::create_db_instance(client(), request("hm-db-5")));
  EXPECT_EQ(code_of(rds::create_db_instance(client(), request("hm-db-5"))), "DBInstanceAlreadyExists");
}

TEST_F(RdsTest, SubnetGroupDeletes) {
  ASSERT_AWS_OK(rds::delete_subnet_group(client(), "hm-db"));
  EXPECT_EQ(code_of(rds::describe_subnet_groups(client(), "hm-db")), "DBSubnetGroupNotFoundFault");
}

}  // namespace
}  // namespace hivemind::aws
