#include "sandbox/address_map.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace hivemind::sandbox {
namespace {

AddressMap sample_map() {
  AddressMap map;
  map.moto_endpoint = "http://127.0.0.1:47100";
  map.hosts["i-0abc12345678"] = HostEntry{"198.18.0.10", 22, "198.18.0.10", "ec2-user"};
  LoadBalancerEntry balancer;
  balancer.name = "web";
  balancer.listeners[80] = Endpoint{"127.0.0.1", 47210};
  balancer.listeners[8080] = Endpoint{"127.0.0.1", 47211};
  balancer.stats_socket = "/tmp/s/haproxy/stats.sock";
  map.load_balancers["web-1.us-east-1.elb.amazonaws.com"] = balancer;
  map.databases["db.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432"] =
      DatabaseEntry{"db", "postgres", Endpoint{"127.0.0.1", 47300}, Endpoint{"198.18.0.1", 47300}};
  return map;
}

TEST(AddressMapTest, RoundTripsThroughJson) {
  AddressMap original = sample_map();

  auto parsed = address_map_from_json(address_map_to_json(original));

  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(address_map_to_json(*parsed), address_map_to_json(original));
  EXPECT_EQ(parsed->moto_endpoint, "http://127.0.0.1:47100");
}

TEST(AddressMapTest, LooksUpMappedHost) {
  auto host = sample_map().host("i-0abc12345678");

  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->ssh_host, "198.18.0.10");
  EXPECT_EQ(host->ssh_port, 22);
  EXPECT_EQ(host->ssh_user, "ec2-user");
}

TEST(AddressMapTest, UnknownInstanceIsAnError) {
  auto host = sample_map().host("i-unknown");

  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().code, "sandbox.not_mapped");
  EXPECT_NE(host.error().message.find("i-unknown"), std::string::npos);
}

TEST(AddressMapTest, LoadBalancerPicksLowestListener) {
  auto endpoint = sample_map().load_balancer("web-1.us-east-1.elb.amazonaws.com");

  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->to_string(), "127.0.0.1:47210");
}

TEST(AddressMapTest, LoadBalancerByListenerPort) {
  AddressMap map = sample_map();

  auto listener = map.load_balancer("web-1.us-east-1.elb.amazonaws.com", 8080);
  auto missing = map.load_balancer("web-1.us-east-1.elb.amazonaws.com", 443);

  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(listener->port, 47211);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "sandbox.not_mapped");
}

TEST(AddressMapTest, UnknownLoadBalancerIsAnError) {
  auto endpoint = sample_map().load_balancer("other.elb.amazonaws.com");

  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.error().code, "sandbox.not_mapped");
}

TEST(AddressMapTest, DatabaseByEndpointAddressAndPort) {
  AddressMap map = sample_map();

  auto local = map.database("db.aaaaaaaaaa.us-east-1.rds.amazonaws.com", 5432);
  auto wrong_port = map.database("db.aaaaaaaaaa.us-east-1.rds.amazonaws.com", 3306);

  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->to_string(), "127.0.0.1:47300");
  EXPECT_FALSE(wrong_port.ok());
}

TEST(AddressMapTest, RecognizesSandboxEndpoint) {
  AddressMap map = sample_map();

  EXPECT_TRUE(is_sandbox_endpoint(map, "http://127.0.0.1:47100"));
  EXPECT_TRUE(is_sandbox_endpoint(map, "http://127.0.0.1:47100/"));
  EXPECT_FALSE(is_sandbox_endpoint(map, "http://127.0.0.1:5000"));
  EXPECT_FALSE(is_sandbox_endpoint(map, "https://ec2.us-east-1.amazonaws.com"));
}

TEST(AddressMapTest, WritesAndReadsFile) {
  testing::TempDir dir;
  std::filesystem::path file = dir.path() / "address-map.json";

  ASSERT_TRUE(write_address_map(file, sample_map()).ok());
  auto read = read_address_map(file);

  ASSERT_TRUE(read.ok()) << read.error().describe();
  EXPECT_EQ(read->hosts.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST(AddressMapTest, MissingFileSaysHowToStart) {
  testing::TempDir dir;

  auto read = read_address_map(dir.path() / "address-map.json");

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "sandbox.not_running");
  EXPECT_NE(read.error().remediation.find("hivemind sandbox up"), std::string::npos);
}

TEST(AddressMapTest, InvalidJsonIsAnError) {
  auto parsed = address_map_from_json("{\"hosts\": 3");

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, "sandbox.invalid_address_map");
}

}  // namespace
}  // namespace hivemind::sandbox
