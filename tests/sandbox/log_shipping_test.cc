// Where the sandbox's CloudWatch agent stand-in reads each configured file:
// a pure mapping from the agent's paths onto a host's folder.

#include "sandbox/log_shipping.h"

#include <gtest/gtest.h>

namespace hivemind::sandbox {
namespace {

constexpr const char* kInstance = "i-0123456789abcdef0";

TEST(HostFile, OptHivemindIsHostsOptFolder) {
  SandboxPaths paths("/state");

  auto file = host_file(paths, kInstance, "/opt/hivemind/shop/logs/app.log");

  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(*file, paths.host_dir(kInstance) / "opt" / "shop" / "logs" / "app.log");
}

TEST(HostFile, SystemLogIsSshdLog) {
  SandboxPaths paths("/state");

  auto file = host_file(paths, kInstance, "/var/log/cloud-init-output.log");

  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(*file, paths.host_dir(kInstance) / "sshd.log");
}

TEST(HostFile, OtherPathsHaveNoStandIn) {
  SandboxPaths paths("/state");

  EXPECT_FALSE(host_file(paths, kInstance, "/etc/passwd").has_value());
  EXPECT_FALSE(host_file(paths, kInstance, "/opt/hivemind/").has_value());
  EXPECT_FALSE(host_file(paths, kInstance, "/opt/hivemind/../../etc/shadow").has_value());
  EXPECT_FALSE(host_file(paths, kInstance, "relative/app.log").has_value());
}

}  // namespace
}  // namespace hivemind::sandbox
