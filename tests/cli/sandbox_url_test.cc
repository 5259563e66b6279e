// The local address that the CLI prints and puts in --json output for a
// sandbox load balancer, read from an address map written by the test.

#include "cli/sandbox_url.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace hivemind::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMotoUrl = "http://web-1.us-east-1.elb.amazonaws.com";

void write_address_map(const fs::path& state_dir) {
  fs::create_directories(state_dir / "sandbox");
  std::ofstream(state_dir / "sandbox" / "address-map.json") << R"({
  "version": 1,
  "moto_endpoint": "http://127.0.0.1:47100",
  "hosts": {},
  "load_balancers": {
    "web-1.us-east-1.elb.amazonaws.com": {"name": "web", "stats_socket": "/nonexistent/stats.sock",
                                          "listeners": {"80": {"host": "127.0.0.1", "port": 47205}}}
  },
  "databases": {}
})";
}

TEST(SandboxUrl, MappedLoadBalancerGetsProxyAddress) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  EXPECT_EQ(sandbox_local_url(state_dir.path().string(), kMotoUrl), "http://127.0.0.1:47205");
}

TEST(SandboxUrl, UnmappedLoadBalancerGetsNothing) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  EXPECT_EQ(sandbox_local_url(state_dir.path().string(), "http://other-2.us-east-1.elb.amazonaws.com"), "");
}

TEST(SandboxUrl, MissingAddressMapGetsNothing) {
  testing::TempDir state_dir;
  EXPECT_EQ(sandbox_local_url(state_dir.path().string(), kMotoUrl), "");
}

TEST(SandboxUrl, HttpsUrlGetsNothing) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  EXPECT_EQ(sandbox_local_url(state_dir.path().string(), "https://web-1.us-east-1.elb.amazonaws.com"), "");
}

}  // namespace
}  // namespace hivemind::cli
