// install_release() and stop_release() against a real host: this machine,
// reached through the sshd fixture, with the fallback supervisor.

#include "remote/deployer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "remote/remote_fixture.h"

namespace hivemind::remote {
namespace {

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Returns the body of GET / on 127.0.0.1:port, or curl's failure.
std::string fetch(int port) {
  std::string command = "curl -s --max-time 5 http://127.0.0.1:" + std::to_string(port) + "/ 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  return output;
}

// A Node app that returns its release name and $GREETING.
std::string server_js(const std::string& release) {
  return "const http = require('http');\n"
         "http.createServer((req, res) => res.end('" +
         release +
         " ' + process.env.GREETING + '\\n'))\n"
         "  .listen(Number(process.env.PORT), '127.0.0.1');\n";
}

TEST(DeployScripts, UnpackPayloadStripsAppFolder) {
  auto layout = make_release_layout("shop", "v1");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(unpack_payload_script(*layout, "/opt/hivemind/shop/uploads/v1.tar.gz"),
            "set -eu\n"
            "tar -xzf '/opt/hivemind/shop/uploads/v1.tar.gz' -C /opt/hivemind/shop/releases/v1 --no-same-owner "
            "--strip-components=1 app\n"
            "rm -f '/opt/hivemind/shop/uploads/v1.tar.gz'\n");
}

TEST(DeployScripts, CurrentReleasePrintsLinkTarget) {
  auto layout = make_release_layout("shop", "v1");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(current_release_script(*layout),
            "target=$(readlink /opt/hivemind/shop/current 2>/dev/null || true)\n"
            "echo \"${target##*/}\"\n");
}

TEST(DeployScripts, RuntimeFromName) {
  EXPECT_EQ(runtime_from_name("node"), Runtime::kNode);
  EXPECT_EQ(runtime_from_name("python"), Runtime::kPython);
  EXPECT_EQ(runtime_from_name("go"), Runtime::kNone);
}

class DeployerTest : public RemoteTest {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs node (Debian package nodejs)";
    RemoteTest::SetUp();
    base_ = sshd_->scratch_folder().string();
    port_ = pick_free_port();
  }

  // Stops whatever the test started through the local shell, even when the
  // SSH session failed mid-test.
  void TearDown() override {
    if (base_.empty()) return;
    auto layout = make_release_layout("demo", "current", base_);
    if (!layout.ok()) return;
    std::filesystem::path script = keys_.path() / "stop.sh";
    std::ofstream(script) << stop_script(*layout, InitSystem::kFallback);
    std::string command = "sh " + script.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0);
  }

  // Writes an artifact laid out as build::write_artifact() does: the
  // manifest first, the app under app/.
  std::filesystem::path make_artifact(const std::string& version, const std::string& js) {
    std::filesystem::path source = keys_.path() / ("src-" + version);
    std::filesystem::create_directories(source / "app");
    std::ofstream(source / "hivemind-manifest.json") << "{}\n";
    std::ofstream(source / "app" / "server.js") << js;
    std::filesystem::path artifact = keys_.path() / ("demo-" + version + ".tar.gz");
    std::string command = "tar -czf " + artifact.string() + " -C " + source.string() + " hivemind-manifest.json app";
    EXPECT_EQ(std::system(command.c_str()), 0);
    return artifact;
  }

  ReleaseRequest request(const std::string& version, const std::filesystem::path& artifact) {
    ReleaseRequest request;
    request.app = "demo";
    request.version = version;
    request.base = base_;
    request.artifact = artifact;
    request.runtime = Runtime::kNode;
    request.start_command = "node server.js";
    request.port = port_;
    request.environment = {{"PORT", Secret(std::to_string(port_))}, {"GREETING", Secret("hello")}};
    request.sudo_for_systemd = false;
    request.listen_timeout = std::chrono::seconds(15);
    request.on_step = [this](std::string_view step) { steps_.emplace_back(step); };
    return request;
  }

  std::string base_;
  int port_ = 0;
  std::vector<std::string> steps_;
};

TEST_F(DeployerTest, InstallsAndStartsRelease) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto installed = install_release(*session, request("v1", make_artifact("v1", server_js("v1"))));
  ASSERT_TRUE(installed.ok()) << installed.error().describe();

  EXPECT_EQ(fetch(port_), "v1 hello\n");
  EXPECT_EQ(installed->init, InitSystem::kFallback);
  EXPECT_EQ(installed->previous_version, "");
  EXPECT_EQ(std::filesystem::read_symlink(base_ + "/demo/current"), "releases/v1");
  EXPECT_TRUE(std::filesystem::exists(base_ + "/demo/releases/v1/server.js"));
  EXPECT_FALSE(std::filesystem::exists(base_ + "/demo/releases/v1/hivemind-manifest.json"));
  EXPECT_FALSE(std::filesystem::exists(base_ + "/demo/uploads/v1.tar.gz"));
  auto mode = std::filesystem::status(base_ + "/demo/shared/.env").permissions();
  EXPECT_EQ(mode, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_NE(std::find(steps_.begin(), steps_.end(), "install the fallback supervisor"), steps_.end());
}

TEST_F(DeployerTest, SecondReleaseKeepsPrevious) {
  auto session = connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(install_release(*session, request("v1", make_artifact("v1", server_js("v1")))).ok());

  auto second = install_release(*session, request("v2", make_artifact("v2", server_js("v2"))));
  ASSERT_TRUE(second.ok()) << second.error().describe();

  EXPECT_EQ(second->previous_version, "v1");
  EXPECT_EQ(fetch(port_), "v2 hello\n");
  EXPECT_TRUE(std::filesystem::exists(base_ + "/demo/releases/v1/server.js"));
  EXPECT_EQ(std::filesystem::read_symlink(base_ + "/demo/current"), "releases/v2");
}

TEST_F(DeployerTest, FailedStartRestoresPreviousRelease) {
  auto session = connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(install_release(*session, request("v1", make_artifact("v1", server_js("v1")))).ok());

  std::string crashing = "console.error('boom: no config'); process.exit(1);\n";
  ReleaseRequest broken = request("v2", make_artifact("v2", crashing));
  broken.listen_timeout = std::chrono::seconds(4);
  auto second = install_release(*session, broken);

  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("wait until port"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("boom: no config"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("Release v1 was started again"), std::string::npos);
  EXPECT_FALSE(second.error().remediation.empty());
  EXPECT_EQ(std::filesystem::read_symlink(base_ + "/demo/current"), "releases/v1");
  EXPECT_EQ(fetch(port_), "v1 hello\n");
}

TEST_F(DeployerTest, MissingStartCommandIsRejected) {
  auto session = connect();
  ASSERT_TRUE(session);
  ReleaseRequest missing = request("v1", make_artifact("v1", server_js("v1")));
  missing.start_command.clear();

  auto installed = install_release(*session, missing);

  ASSERT_FALSE(installed.ok());
  EXPECT_EQ(installed.error().code, "remote.no_start_command");
  EXPECT_FALSE(std::filesystem::exists(base_ + "/demo"));
}

TEST_F(DeployerTest, StopEndsApp) {
  auto session = connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(install_release(*session, request("v1", make_artifact("v1", server_js("v1")))).ok());

  StopRequest stop{"demo", base_, false};
  Status stopped = stop_release(*session, stop);

  ASSERT_TRUE(stopped.ok()) << stopped.error().describe();
  EXPECT_NE(fetch(port_), "v1 hello\n");
  EXPECT_FALSE(std::filesystem::exists(base_ + "/demo/run/supervisor.pid"));
}

TEST_F(DeployerTest, StopWithoutInstallSucceeds) {
  auto session = connect();
  ASSERT_TRUE(session);

  Status stopped = stop_release(*session, StopRequest{"demo", base_, false});

  EXPECT_TRUE(stopped.ok()) << stopped.error().describe();
}

}  // namespace
}  // namespace hivemind::remote
