// The EC2 reads the security rules need, against moto_server: volumes and
// their Encrypted flag, an instance's user data, and IPv6 ingress ranges.

#include <gtest/gtest.h>

#include "aws/ec2.h"
#include "aws/ssm.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class Ec2VolumesTest : public MotoTest {
 protected:
  ec2::RunInstancesRequest launch_request() {
    auto image = ssm::latest_al2023_ami(client());
    EXPECT_AWS_OK(image);
    ec2::RunInstancesRequest request;
    request.image_id = image.value_or("");
    request.instance_type = "t3.micro";
    return request;
  }

  std::vector<Filter> attached_to(const std::string& instance_id) {
    return {Filter{"attachment.instance-id", {instance_id}}};
  }
};

TEST(Ec2Base64Decode, DecodesRfc4648Vectors) {
  EXPECT_EQ(ec2::base64_decode(""), "");
  EXPECT_EQ(ec2::base64_decode("Zg=="), "f");
  EXPECT_EQ(ec2::base64_decode("Zm8="), "fo");
  EXPECT_EQ(ec2::base64_decode("Zm9v"), "foo");
  EXPECT_EQ(ec2::base64_decode("Zm9vYmFy\n"), "foobar");
}

TEST(Ec2Base64Decode, RejectsInvalidInput) {
  EXPECT_EQ(ec2::base64_decode("Zm9"), std::nullopt);
  EXPECT_EQ(ec2::base64_decode("Zm9*"), std::nullopt);
}

TEST_F(Ec2VolumesTest, RunInstanceRootVolumeIsEncrypted) {
  auto instance = ec2::run_instance(client(), launch_request());
  ASSERT_AWS_OK(instance);

  auto volumes = ec2::describe_volumes(client(), {}, attached_to(instance->id));

  ASSERT_AWS_OK(volumes);
  ASSERT_EQ(volumes->size(), 1u);
  EXPECT_TRUE(volumes->front().encrypted);
  EXPECT_FALSE(volumes->front().kms_key_id.empty());
  EXPECT_EQ(volumes->front().size_gib, 8);
  EXPECT_EQ(volumes->front().volume_type, "gp3");
  ASSERT_EQ(volumes->front().attached_instance_ids.size(), 1u);
  EXPECT_EQ(volumes->front().attached_instance_ids.front(), instance->id);
}

TEST_F(Ec2VolumesTest, VolumeWithoutMappingIsUnencrypted) {
  ec2::RunInstancesRequest request = launch_request();
  auto launched = client().query(
      ec2_service(), "RunInstances",
      {{"ImageId", request.image_id}, {"InstanceType", "t3.micro"}, {"MinCount", "1"}, {"MaxCount", "1"}});
  ASSERT_AWS_OK(launched);
  std::string instance_id = launched->result.child("instancesSet").child("item").child("instanceId").text().as_string();

  auto volumes = ec2::describe_volumes(client(), {}, attached_to(instance_id));

  ASSERT_AWS_OK(volumes);
  ASSERT_EQ(volumes->size(), 1u);
  EXPECT_FALSE(volumes->front().encrypted);
  auto by_id = ec2::describe_volumes(client(), {volumes->front().id});
  ASSERT_AWS_OK(by_id);
  ASSERT_EQ(by_id->size(), 1u);
  EXPECT_EQ(by_id->front().id, volumes->front().id);
}

TEST_F(Ec2VolumesTest, UserDataComesBackDecoded) {
  ec2::RunInstancesRequest request = launch_request();
  request.user_data = "#!/bin/bash\necho prepared\n";
  auto instance = ec2::run_instance(client(), request);
  ASSERT_AWS_OK(instance);

  auto user_data = ec2::describe_user_data(client(), instance->id);

  ASSERT_AWS_OK(user_data);
  EXPECT_EQ(*user_data, request.user_data);
}

TEST_F(Ec2VolumesTest, MissingUserDataIsEmpty) {
  auto instance = ec2::run_instance(client(), launch_request());
  ASSERT_AWS_OK(instance);

  auto user_data = ec2::describe_user_data(client(), instance->id);

  ASSERT_AWS_OK(user_data);
  EXPECT_EQ(*user_data, "");
}

TEST_F(Ec2VolumesTest, Ipv6IngressRoundTrips) {
  auto vpc = ec2::create_vpc(client(), "10.30.0.0/16", kTestTags);
  ASSERT_AWS_OK(vpc);
  auto group = ec2::create_security_group(client(), "hm-v6", "ipv6 test", vpc->id, kTestTags);
  ASSERT_AWS_OK(group);
  ec2::IngressRule world;
  world.from_port = 22;
  world.to_port = 22;
  world.cidr_block = "::/0";
  world.description = "opened by hand";
  ec2::IngressRule office = world;
  office.cidr_block = "203.0.113.7/32";
  ASSERT_AWS_OK(ec2::authorize_ingress(client(), *group, {world, office}));

  auto groups = ec2::describe_security_groups(client(), {*group});

  ASSERT_AWS_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  std::set<std::string> blocks;
  for (const auto& rule : groups->front().ingress) blocks.insert(rule.cidr_block);
  EXPECT_EQ(blocks, (std::set<std::string>{"::/0", "203.0.113.7/32"}));
}

}  // namespace
}  // namespace hivemind::aws
