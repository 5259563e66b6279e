// The secure stage's sshd hardening, run for real as ec2-user on a sandbox
// host through the host's scoped sudo rule. Needs root and Debian's sudo;
// the lock and the cleanup of the bridge and account come from the
// environment in host_test.cc.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sandbox/host.h"
#include "sandbox/process.h"
#include "support/temp_dir.h"
#include "verify/sheriff.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstanceId = "i-0000000000test0h1";
constexpr const char* kAddress = "198.18.0.238";
constexpr const char* kMachineDropIn = "/etc/ssh/sshd_config.d/00-hivemind.conf";

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

verify::RuleState sshd_rule_state(const std::string& effective_config) {
  verify::SecuritySnapshot snapshot;
  snapshot.sshd_effective_config = effective_config;
  for (const auto& rule : verify::evaluate(snapshot, {}).rules) {
    if (rule.rule_id == verify::kRuleSshPassword) return rule.state;
  }
  return verify::RuleState::kNotChecked;
}

TEST(SudoersTest, AllowsOnlyHardeningCommands) {
  std::string expected =
      "# Written by the HiveMind sandbox; seen only inside this host's mount namespace.\n"
      "Defaults:ec2-user !lecture\n"
      "ec2-user ALL=(root) NOPASSWD: /usr/sbin/sshd -T, /usr/sbin/sshd -t, "
      "/usr/bin/tee /etc/ssh/sshd_config.d/00-hivemind.conf, /usr/bin/pkill -HUP -F /s/hosts/i-1/sshd.pid\n";

  EXPECT_EQ(render_sudoers("/s/hosts/i-1"), expected);
}

TEST(SudoersTest, EscapesSpecialCharactersInPath) {
  std::string rule = render_sudoers("/tmp/a b,c:d=e");

  EXPECT_NE(rule.find("-F /tmp/a\\ b\\,c\\:d\\=e/sshd.pid"), std::string::npos) << rule;
}

class HostHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "sandbox hosts need root";
    if (!fs::exists("/usr/bin/sudo")) GTEST_SKIP() << "sudo is not installed; run scripts/setup";
    machine_drop_in_existed_ = fs::exists(kMachineDropIn);
    ASSERT_TRUE(ensure_bridge().ok());
    ASSERT_TRUE(ensure_host_user().ok());
    key_ = dir_.path() / "key";
    ASSERT_TRUE(run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key_.string()}).ok());
    ASSERT_TRUE(create_host(paths_, HostSpec{kInstanceId, kAddress, read_text(key_.string() + ".pub")}).ok());
    created_ = true;
  }

  void TearDown() override {
    if (created_) (void)destroy_host(paths_, kInstanceId);
  }

  Result<CommandOutput> ssh(const std::string& command) {
    return run_command({"ssh", "-i", key_.string(), "-o", "StrictHostKeyChecking=no", "-o",
                        "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o",
                        "LogLevel=ERROR", std::string(kHostUser) + "@" + kAddress, command});
  }

  fs::path host_etc_ssh() const { return paths_.host_dir(kInstanceId) / "etc-ssh"; }

  testing::TempDir dir_;
  SandboxPaths paths_{dir_.path() / "state"};
  fs::path key_;
  bool created_ = false;
  bool machine_drop_in_existed_ = true;
};

TEST_F(HostHardeningTest, TurnsPasswordLoginOff) {
  // An image whose own drop-in file allows password logins.
  std::ofstream(host_etc_ssh() / "sshd_config.d" / "50-image.conf") << "PasswordAuthentication yes\n";
  auto before = ssh(verify::sshd_effective_config_command());
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->exit_code, 0) << before->output;
  EXPECT_EQ(sshd_rule_state(before->output), verify::RuleState::kViolated);

  auto hardened = ssh(verify::sshd_hardening_script());
  ASSERT_TRUE(hardened.ok());
  ASSERT_EQ(hardened->exit_code, 0) << hardened->output;

  auto after = ssh(verify::sshd_effective_config_command());
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->exit_code, 0) << after->output;
  EXPECT_EQ(sshd_rule_state(after->output), verify::RuleState::kPassed) << after->output;
  EXPECT_NE(read_text(host_etc_ssh() / "sshd_config.d" / "00-hivemind.conf").find("PasswordAuthentication no"),
            std::string::npos);
  if (!machine_drop_in_existed_) EXPECT_FALSE(fs::exists(kMachineDropIn));
}

TEST_F(HostHardeningTest, ReloadedSshdStillAcceptsKey) {
  auto hardened = ssh(verify::sshd_hardening_script());
  ASSERT_TRUE(hardened.ok());
  ASSERT_EQ(hardened->exit_code, 0) << hardened->output;

  auto again = ssh("echo ok");

  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->output, "ok\n");
  EXPECT_NE(read_text(paths_.host_dir(kInstanceId) / "sshd.log").find("SIGHUP"), std::string::npos);
}

TEST_F(HostHardeningTest, SudoRuleAllowsNothingElse) {
  for (const char* command : {"sudo -n id", "sudo -n tee /etc/ssh/sshd_config </dev/null",
                              "sudo -n pkill -HUP -F /run/sshd.pid", "sudo -n sh -c true"}) {
    auto result = ssh(command);
    ASSERT_TRUE(result.ok());
    EXPECT_NE(result->exit_code, 0) << command << ": " << result->output;
  }
}

}  // namespace
}  // namespace hivemind::sandbox
