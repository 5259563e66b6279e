// The lines that deploy and retry print once a deployment is up, from a
// deployment view written by the test and, for the sandbox, an address map.

#include "cli/deployed_summary.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace hivemind::cli {
namespace {

namespace fs = std::filesystem;

nlohmann::json view_of(const std::string& target) {
  return {{"id", "hm-web-abc123"},
          {"target", target},
          {"url", "http://web-1.us-east-1.elb.amazonaws.com"},
          {"ssh_command", "ssh -i /state/keys/id_ed25519 ec2-user@198.18.0.10 -p 22"},
          {"monthly_cost_usd", 41.977},
          {"report_path", "/state/hm-web-abc123/report/report.txt"}};
}

void write_address_map(const fs::path& state_dir) {
  fs::create_directories(state_dir / "sandbox");
  std::ofstream(state_dir / "sandbox" / "address-map.json") << R"({
  "version": 1, "moto_endpoint": "http://127.0.0.1:47100", "hosts": {}, "databases": {},
  "load_balancers": {"web-1.us-east-1.elb.amazonaws.com": {"name": "web", "stats_socket": "/nonexistent/stats.sock",
                                                           "listeners": {"80": {"host": "127.0.0.1", "port": 47205}}}}
})";
}

std::string printed(const nlohmann::json& view, const fs::path& state_dir) {
  Ui ui(false, false);
  ::testing::internal::CaptureStdout();
  print_deployed(ui, view, state_dir.string());
  return ::testing::internal::GetCapturedStdout();
}

TEST(DeployedSummary, SandboxShowsLocalAddressFirst) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  EXPECT_EQ(printed(view_of("sandbox"), state_dir.path()),
            "  URL:          http://127.0.0.1:47205 (the sandbox load balancer for "
            "http://web-1.us-east-1.elb.amazonaws.com)\n"
            "  SSH:          ssh -i /state/keys/id_ed25519 ec2-user@198.18.0.10 -p 22\n"
            "  Monthly cost: about $41.98 (estimate)\n"
            "  Report:       /state/hm-web-abc123/report/report.txt\n");
}

TEST(DeployedSummary, AwsShowsLoadBalancerUrl) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  std::string output = printed(view_of("aws"), state_dir.path());
  EXPECT_EQ(output.substr(0, output.find('\n')), "  URL:          http://web-1.us-east-1.elb.amazonaws.com");
}

TEST(DeployedSummary, SandboxUrlAddedOnlyForSandbox) {
  testing::TempDir state_dir;
  write_address_map(state_dir.path());
  nlohmann::json sandbox = view_of("sandbox");
  nlohmann::json aws = view_of("aws");

  add_sandbox_url(sandbox, state_dir.path().string());
  add_sandbox_url(aws, state_dir.path().string());

  EXPECT_EQ(sandbox.value("sandbox_url", ""), "http://127.0.0.1:47205");
  EXPECT_FALSE(aws.contains("sandbox_url"));
}

}  // namespace
}  // namespace hivemind::cli
