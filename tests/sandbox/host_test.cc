#include "sandbox/host.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sandbox/process.h"
#include "support/temp_dir.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Runs `command` on a sandbox host over OpenSSH's client with `key`.
Result<CommandOutput> ssh(const fs::path& key, const std::string& address, const std::string& command) {
  return run_command({"ssh", "-i", key.string(), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                      "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                      std::string(kHostUser) + "@" + address, command});
}

// Serializes the sandbox test programs that CTest runs in parallel, because
// they share the bridge and the ec2-user account, and removes both after the
// last test when this program created them, so that a clean machine stays
// clean. The lock is released when the process exits.
class HostEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    int lock = ::open("/tmp/hivemind-sandbox-tests.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    bridge_existed_ = run_command({"ip", "link", "show", "dev", kBridgeName}).value_or({}).exit_code == 0;
    user_existed_ = run_command({"id", kHostUser}).value_or({}).exit_code == 0;
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    if (!bridge_existed_) (void)remove_bridge();
    if (!user_existed_) (void)remove_host_user();
  }

 private:
  bool bridge_existed_ = true;
  bool user_existed_ = true;
};

[[maybe_unused]] ::testing::Environment* const host_environment =
    ::testing::AddGlobalTestEnvironment(new HostEnvironment);

class HostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "sandbox hosts need root";
    ASSERT_TRUE(ensure_bridge().ok());
    ASSERT_TRUE(ensure_host_user().ok());
    key_ = dir_.path() / "key";
    ASSERT_TRUE(run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key_.string()}).ok());
    public_key_ = read_text(key_.string() + ".pub");
  }

  void TearDown() override {
    for (const std::string& id : created_) (void)destroy_host(paths_, id);
  }

  Status create(const std::string& id, const std::string& address) {
    created_.push_back(id);
    return create_host(paths_, HostSpec{id, address, public_key_});
  }

  testing::TempDir dir_;
  SandboxPaths paths_{dir_.path() / "state"};
  fs::path key_;
  std::string public_key_;
  std::vector<std::string> created_;
};

TEST(SshdConfigTest, RendersOnlyKeyLoginOnHostAddress) {
  std::string expected =
      "Include /etc/ssh/sshd_config.d/*.conf\n"
      "ListenAddress 198.18.0.10:22\n"
      "HostKey /s/hosts/i-1/ssh_host_ed25519_key\n"
      "PidFile /s/hosts/i-1/sshd.pid\n"
      "AuthorizedKeysFile none\n"
      "AuthorizedKeysCommand /bin/cat /s/hosts/i-1/authorized_keys\n"
      "AuthorizedKeysCommandUser root\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "PermitRootLogin no\n"
      "AllowUsers ec2-user\n"
      "StrictModes no\n"
      "UsePAM no\n"
      "Subsystem sftp internal-sftp\n";
  EXPECT_EQ(render_sshd_config("198.18.0.10", "/s/hosts/i-1"), expected);
}

TEST(HostNamesTest, UseLastEightCharacters) {
  EXPECT_EQ(namespace_name("i-0123456789abcdef0"), "hm-9abcdef0");
  EXPECT_EQ(veth_name("i-0123456789abcdef0"), "hmv-9abcdef0");
}

TEST_F(HostTest, AcceptsSshWithInstanceKey) {
  ASSERT_TRUE(create("i-0000000000test0a1", "198.18.0.241").ok());

  auto result = ssh(key_, "198.18.0.241", "echo ok");

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 0) << result->output;
  EXPECT_EQ(result->output, "ok\n");
}

TEST_F(HostTest, RejectsOtherKey) {
  ASSERT_TRUE(create("i-0000000000test0a2", "198.18.0.242").ok());
  fs::path other = dir_.path() / "other";
  ASSERT_TRUE(run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.string()}).ok());

  auto result = ssh(other, "198.18.0.242", "echo ok");

  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->exit_code, 0);
}

TEST_F(HostTest, OptHivemindIsPrivatePerHost) {
  ASSERT_TRUE(create("i-0000000000test0b1", "198.18.0.243").ok());
  ASSERT_TRUE(create("i-0000000000test0b2", "198.18.0.244").ok());

  auto write = ssh(key_, "198.18.0.243", "echo blue > /opt/hivemind/marker");
  auto first = ssh(key_, "198.18.0.243", "cat /opt/hivemind/marker");
  auto second = ssh(key_, "198.18.0.244", "ls /opt/hivemind");

  ASSERT_TRUE(write.ok());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(write->exit_code, 0) << write->output;
  EXPECT_EQ(first->output, "blue\n");
  EXPECT_EQ(second->output, "");
  EXPECT_EQ(read_text(paths_.host_dir("i-0000000000test0b1") / "opt" / "marker"), "blue\n");
  EXPECT_FALSE(fs::exists("/opt/hivemind/marker"));
}

TEST_F(HostTest, SessionRunsInsideNamespace) {
  ASSERT_TRUE(create("i-0000000000test0c1", "198.18.0.245").ok());

  auto result = ssh(key_, "198.18.0.245", "ip -4 -o addr show dev eth0");

  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->output.find("198.18.0.245/24"), std::string::npos) << result->output;
}

TEST_F(HostTest, DestroyKillsProcessesAndRemovesEverything) {
  std::string id = "i-0000000000test0d1";
  ASSERT_TRUE(create(id, "198.18.0.246").ok());
  auto started = ssh(key_, "198.18.0.246", "nohup sleep 300 >/dev/null 2>&1 & echo started");
  ASSERT_TRUE(started.ok());
  ASSERT_EQ(started->output, "started\n");
  std::vector<pid_t> pids = namespace_pids(namespace_name(id));
  ASSERT_FALSE(pids.empty());

  ASSERT_TRUE(destroy_host(paths_, id).ok());

  EXPECT_FALSE(host_exists(id));
  for (pid_t pid : pids) EXPECT_FALSE(process_alive(pid)) << pid;
  EXPECT_FALSE(fs::exists(paths_.host_dir(id)));
  auto link = run_command({"ip", "link", "show", "dev", veth_name(id)});
  ASSERT_TRUE(link.ok());
  EXPECT_NE(link->exit_code, 0);
}

TEST_F(HostTest, DestroyOfMissingHostSucceeds) { EXPECT_TRUE(destroy_host(paths_, "i-0000000000nothere").ok()); }

}  // namespace
}  // namespace hivemind::sandbox
