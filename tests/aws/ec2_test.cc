// Typed EC2 calls against moto_server: networks, security groups, key pairs,
// instances and lookups, with tags applied at creation and typed errors.

#include "aws/ec2.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "aws/ssm.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

constexpr const char* kPublicKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpA9mPq5n4jY0fKQ6yK3xM8sQ5oXgq1h3C0mXcQ9T0u hivemind-test";

class Ec2Test : public MotoTest {
 protected:
  // A VPC with one subnet in the region's first zone.
  void make_network() {
    auto vpc = ec2::create_vpc(client(), "10.20.0.0/16", kTestTags);
    ASSERT_AWS_OK(vpc);
    vpc_id_ = vpc->id;
    auto zones = ec2::describe_availability_zones(client());
    ASSERT_AWS_OK(zones);
    ASSERT_FALSE(zones->empty());
    auto subnet = ec2::create_subnet(client(), vpc_id_, "10.20.1.0/24", zones->front().name, kTestTags);
    ASSERT_AWS_OK(subnet);
    subnet_id_ = subnet->id;
  }

  ec2::RunInstancesRequest instance_request(const std::string& token) {
    auto image = ssm::latest_al2023_ami(client());
    EXPECT_AWS_OK(image);
    ec2::RunInstancesRequest request;
    request.image_id = image.value_or("");
    request.instance_type = "t3.micro";
    request.subnet_id = subnet_id_;
    request.user_data = "#!/bin/sh\necho hivemind\n";
    request.instance_tags = kTestTags;
    request.volume_tags = kTestTags;
    request.client_token = token;
    return request;
  }

  std::string vpc_id_;
  std::string subnet_id_;
};

TEST(Ec2Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(ec2::base64_encode(""), "");
  EXPECT_EQ(ec2::base64_encode("f"), "Zg==");
  EXPECT_EQ(ec2::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(ec2::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(ec2::base64_encode("foobar"), "Zm9vYmFy");
}

TEST_F(Ec2Test, CreateVpcTagsAtCreation) {
  auto vpc = ec2::create_vpc(client(), "10.30.0.0/16", kTestTags);
  ASSERT_AWS_OK(vpc);
  EXPECT_EQ(vpc->cidr_block, "10.30.0.0/16");
  EXPECT_EQ(find_tag(vpc->tags, "hivemind:deployment"), "hm-test-abc123");

  auto found = ec2::describe_vpcs(client(), {}, {tag_filter("hivemind:deployment", {"hm-test-abc123"})});
  ASSERT_AWS_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().id, vpc->id);
  EXPECT_EQ(find_tag(found->front().tags, "hivemind:resource"), "test");
}

TEST_F(Ec2Test, TagFilterSkipsOtherVpcs) {
  ASSERT_AWS_OK(ec2::create_vpc(client(), "10.31.0.0/16", {{"hivemind:deployment", "other"}}));
  auto mine = ec2::create_vpc(client(), "10.32.0.0/16", kTestTags);
  ASSERT_AWS_OK(mine);

  auto found = ec2::describe_vpcs(client(), {}, {tag_filter("hivemind:deployment", {"hm-test-abc123"})});
  ASSERT_AWS_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().id, mine->id);

  auto tagged = ec2::describe_vpcs(client(), {}, {tag_key_filter("hivemind:deployment")});
  ASSERT_AWS_OK(tagged);
  EXPECT_EQ(tagged->size(), 2u);
}

TEST_F(Ec2Test, EnableDnsHostnamesSucceeds) {
  make_network();
  EXPECT_AWS_OK(ec2::enable_dns_hostnames(client(), vpc_id_));
  auto attribute =
      client().query(ec2_service(), "DescribeVpcAttribute", {{"VpcId", vpc_id_}, {"Attribute", "enableDnsHostnames"}});
  ASSERT_AWS_OK(attribute);
  EXPECT_TRUE(attribute->result.child("enableDnsHostnames").child("value").text().as_bool());
}

TEST_F(Ec2Test, DeleteVpcWithSubnetIsDependencyViolation) {
  make_network();
  auto deleted = ec2::delete_vpc(client(), vpc_id_);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code, "DependencyViolation");
  EXPECT_EQ(deleted.error().operation, "DeleteVpc");

  ASSERT_AWS_OK(ec2::delete_subnet(client(), subnet_id_));
  EXPECT_AWS_OK(ec2::delete_vpc(client(), vpc_id_));
}

TEST_F(Ec2Test, UnknownIdsAreNotFound) {
  EXPECT_EQ(code_of(ec2::delete_vpc(client(), "vpc-00000000000000000")), "InvalidVpcID.NotFound");
  EXPECT_EQ(code_of(ec2::describe_subnets(client(), {"subnet-00000000000000000"})), "InvalidSubnetID.NotFound");
  EXPECT_EQ(code_of(ec2::delete_security_group(client(), "sg-00000000000000000")), "InvalidGroup.NotFound");
  EXPECT_EQ(code_of(ec2::terminate_instances(client(), {"i-00000000000000000"})), "InvalidInstanceID.NotFound");
  EXPECT_EQ(code_of(ec2::describe_route_tables(client(), {"rtb-00000000000000000"})), "InvalidRouteTableID.NotFound");
}

TEST_F(Ec2Test, SubnetMapsPublicIpOnLaunch) {
  make_network();
  auto before = ec2::describe_subnets(client(), {subnet_id_});
  ASSERT_AWS_OK(before);
  ASSERT_EQ(before->size(), 1u);
  EXPECT_FALSE(before->front().map_public_ip_on_launch);
  EXPECT_EQ(find_tag(before->front().tags, "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(ec2::set_map_public_ip_on_launch(client(), subnet_id_, true));

  auto after = ec2::describe_subnets(client(), {}, {{"vpc-id", {vpc_id_}}});
  ASSERT_AWS_OK(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_TRUE(after->front().map_public_ip_on_launch);
  EXPECT_EQ(after->front().vpc_id, vpc_id_);
  EXPECT_FALSE(after->front().availability_zone.empty());
}

TEST_F(Ec2Test, InternetGatewayAttachesAndDetaches) {
  make_network();
  auto gateway = ec2::create_internet_gateway(client(), kTestTags);
  ASSERT_AWS_OK(gateway);
  EXPECT_EQ(find_tag(gateway->tags, "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(ec2::attach_internet_gateway(client(), gateway->id, vpc_id_));
  auto attached = ec2::describe_internet_gateways(client(), {gateway->id});
  ASSERT_AWS_OK(attached);
  ASSERT_EQ(attached->size(), 1u);
  EXPECT_EQ(attached->front().attached_vpc_ids, std::vector<std::string>{vpc_id_});

  ASSERT_AWS_OK(ec2::detach_internet_gateway(client(), gateway->id, vpc_id_));
  ASSERT_AWS_OK(ec2::delete_internet_gateway(client(), gateway->id));
  EXPECT_EQ(code_of(ec2::describe_internet_gateways(client(), {gateway->id})), "InvalidInternetGatewayID.NotFound");
}

TEST_F(Ec2Test, RouteTableRoutesToGatewayAndAssociates) {
  make_network();
  auto gateway = ec2::create_internet_gateway(client(), kTestTags);
  ASSERT_AWS_OK(gateway);
  ASSERT_AWS_OK(ec2::attach_internet_gateway(client(), gateway->id, vpc_id_));
  auto table = ec2::create_route_table(client(), vpc_id_, kTestTags, new_client_token());
  ASSERT_AWS_OK(table);
  EXPECT_EQ(find_tag(table->tags, "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(ec2::create_route(client(), table->id, "0.0.0.0/0", gateway->id));
  auto association = ec2::associate_route_table(client(), table->id, subnet_id_);
  ASSERT_AWS_OK(association);
  EXPECT_FALSE(association->empty());

  auto described = ec2::describe_route_tables(client(), {table->id});
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  const ec2::RouteTable& found = described->front();
  auto default_route = std::find_if(found.routes.begin(), found.routes.end(), [](const ec2::Route& route) {
    return route.destination_cidr_block == "0.0.0.0/0";
  });
  ASSERT_NE(default_route, found.routes.end());
  EXPECT_EQ(default_route->gateway_id, gateway->id);
  ASSERT_EQ(found.associations.size(), 1u);
  EXPECT_EQ(found.associations.front().id, *association);
  EXPECT_EQ(found.associations.front().subnet_id, subnet_id_);

  ASSERT_AWS_OK(ec2::disassociate_route_table(client(), *association));
  ASSERT_AWS_OK(ec2::delete_route_table(client(), table->id));
  EXPECT_EQ(code_of(ec2::describe_route_tables(client(), {table->id})), "InvalidRouteTableID.NotFound");
}

TEST_F(Ec2Test, SecurityGroupTakesCidrAndSourceGroupRules) {
  make_network();
  auto web = ec2::create_security_group(client(), "web", "web servers", vpc_id_, kTestTags);
  ASSERT_AWS_OK(web);
  auto db = ec2::create_security_group(client(), "db", "databases", vpc_id_, kTestTags);
  ASSERT_AWS_OK(db);

  ec2::IngressRule https{"tcp", 443, 443, "0.0.0.0/0", "", "https from anywhere"};
  ec2::IngressRule postgres{"tcp", 5432, 5432, "", *web, "postgres from web"};
  ASSERT_AWS_OK(ec2::authorize_ingress(client(), *web, {https}));
  ASSERT_AWS_OK(ec2::authorize_ingress(client(), *db, {postgres}));

  auto groups = ec2::describe_security_groups(client(), {*db});
  ASSERT_AWS_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  const ec2::SecurityGroup& group = groups->front();
  EXPECT_EQ(group.name, "db");
  EXPECT_EQ(group.vpc_id, vpc_id_);
  EXPECT_EQ(find_tag(group.tags, "hivemind:deployment"), "hm-test-abc123");
  ASSERT_EQ(group.ingress.size(), 1u);
  EXPECT_EQ(group.ingress.front().source_group_id, *web);
  EXPECT_EQ(group.ingress.front().from_port, 5432);
  EXPECT_EQ(group.ingress.front().description, "postgres from web");

  ASSERT_AWS_OK(ec2::revoke_ingress(client(), *web, {https}));
  auto revoked = ec2::describe_security_groups(client(), {*web});
  ASSERT_AWS_OK(revoked);
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_TRUE(revoked->front().ingress.empty());

  // Deleted in dependency order: AWS rejects deleting a group that another
  // group's rule still names (moto 5.2.1 does not check this).
  ASSERT_AWS_OK(ec2::delete_security_group(client(), *db));
  ASSERT_AWS_OK(ec2::delete_security_group(client(), *web));
  EXPECT_EQ(code_of(ec2::describe_security_groups(client(), {*web})), "InvalidGroup.NotFound");
}

TEST_F(Ec2Test, KeyPairImportsOnceWithTags) {
  auto imported = ec2::import_key_pair(client(), "deployer", kPublicKey, kTestTags);
  ASSERT_AWS_OK(imported);
  EXPECT_FALSE(imported->fingerprint.empty());

  EXPECT_EQ(code_of(ec2::import_key_pair(client(), "deployer", kPublicKey, kTestTags)), "InvalidKeyPair.Duplicate");

  auto described = ec2::describe_key_pairs(client(), {"deployer"});
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  EXPECT_EQ(find_tag(described->front().tags, "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(ec2::delete_key_pair(client(), "deployer"));
  EXPECT_EQ(code_of(ec2::describe_key_pairs(client(), {"deployer"})), "InvalidKeyPair.NotFound");
}

TEST_F(Ec2Test, RunInstanceRequiresImdsv2AndTagsVolume) {
  make_network();
  auto instance = ec2::run_instance(client(), instance_request("hm-test-token-1"));
  ASSERT_AWS_OK(instance);
  EXPECT_EQ(instance->subnet_id, subnet_id_);
  EXPECT_EQ(instance->http_tokens, "required");
  EXPECT_EQ(find_tag(instance->tags, "hivemind:deployment"), "hm-test-abc123");
  ASSERT_EQ(instance->volume_ids.size(), 1u);

  auto described = ec2::describe_instances(client(), {instance->id});
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  EXPECT_EQ(described->front().client_token, "hm-test-token-1");
  EXPECT_EQ(described->front().http_tokens, "required");

  auto volumes = client().query(ec2_service(), "DescribeVolumes", {{"VolumeId.1", instance->volume_ids.front()}});
  ASSERT_AWS_OK(volumes);
  pugi::xml_node volume = volumes->result.child("volumeSet").child("item");
  EXPECT_TRUE(volume.child("encrypted").text().as_bool());
  EXPECT_EQ(find_tag(calls::ec2_tags(volume), "hivemind:deployment"), "hm-test-abc123");

  auto user_data = client().query(ec2_service(), "DescribeInstanceAttribute",
                                  {{"InstanceId", instance->id}, {"Attribute", "userData"}});
  ASSERT_AWS_OK(user_data);
  EXPECT_EQ(user_data->result.child("userData").child("value").text().as_string(),
            ec2::base64_encode("#!/bin/sh\necho hivemind\n"));
}

TEST_F(Ec2Test, DescribeInstancesPagesToTheEnd) {
  make_network();
  std::set<std::string> launched;
  for (int i = 0; i < 7; ++i) {
    auto instance = ec2::run_instance(client(), instance_request("hm-page-" + std::to_string(i)));
    ASSERT_AWS_OK(instance);
    launched.insert(instance->id);
  }

  auto described = ec2::describe_instances(client(), {}, {tag_filter("hivemind:deployment", {"hm-test-abc123"})}, 5);
  ASSERT_AWS_OK(described);
  std::set<std::string> found;
  for (const ec2::Instance& instance : *described) found.insert(instance.id);
  EXPECT_EQ(found, launched);
  EXPECT_EQ(described->size(), 7u);
}

TEST_F(Ec2Test, TerminateInstancesReportsNewState) {
  make_network();
  auto instance = ec2::run_instance(client(), instance_request(new_client_token()));
  ASSERT_AWS_OK(instance);

  auto terminated = ec2::terminate_instances(client(), {instance->id});
  ASSERT_AWS_OK(terminated);
  ASSERT_EQ(terminated->size(), 1u);
  EXPECT_EQ(terminated->front().id, instance->id);
  EXPECT_TRUE(terminated->front().state == "shutting-down" || terminated->front().state == "terminated")
      << terminated->front().state;
}

TEST_F(Ec2Test, LookupsListZonesRegionsAndImages) {
  auto zones = ec2::describe_availability_zones(client());
  ASSERT_AWS_OK(zones);
  ASSERT_FALSE(zones->empty());
  for (const ec2::AvailabilityZone& zone : *zones) {
    EXPECT_EQ(zone.name.rfind(client().config().region, 0), 0u) << zone.name;
  }

  auto regions = ec2::describe_regions(client());
  ASSERT_AWS_OK(regions);
  EXPECT_TRUE(std::any_of(regions->begin(), regions->end(),
                          [](const ec2::Region& region) { return region.name == "us-east-1"; }));

  auto image_id = ssm::latest_al2023_ami(client());
  ASSERT_AWS_OK(image_id);
  auto images = ec2::describe_images(client(), {*image_id});
  ASSERT_AWS_OK(images);
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->front().id, *image_id);
  EXPECT_EQ(code_of(ec2::describe_images(client(), {"ami-00000000000000000"})), "InvalidAMIID.NotFound");
}

}  // namespace
}  // namespace hivemind::aws
