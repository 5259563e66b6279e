// Runs the scripts builder's output on a real host (this machine, reached
// through the sshd fixture): a tiny Node app deployed, supervised by the
// fallback supervisor, killed and restarted, then stopped.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "remote/remote_fixture.h"
#include "remote/scripts.h"

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

std::size_t count_of(const std::string& text, const std::string& word) {
  std::size_t count = 0;
  for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++count;
  return count;
}

// A Node app that returns $GREETING on every request, from the env file.
constexpr const char* kServerJs =
    "const http = require('http');\n"
    "const port = Number(process.env.PORT);\n"
    "http.createServer((req, res) => res.end(process.env.GREETING + '\\n'))\n"
    "  .listen(port, '127.0.0.1', () => console.log('demo listening on ' + port));\n";

class SupervisorTest : public RemoteTest {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs node (Debian package nodejs)";
    RemoteTest::SetUp();
    auto layout = make_release_layout("demo", "v1", sshd_->scratch_folder().string());
    ASSERT_TRUE(layout.ok()) << layout.error().describe();
    layout_ = *layout;
    port_ = pick_free_port();
  }

  // Stops whatever the test started, through the local shell, even when the
  // SSH session failed mid-test.
  void TearDown() override {
    if (layout_.app.empty()) return;
    std::filesystem::path script = keys_.path() / "stop.sh";
    std::ofstream(script) << stop_script(layout_, InitSystem::kFallback);
    std::string command = "sh " + script.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0);
  }

  Result<CommandResult> run_script(Session& session, const std::string& script) {
    ExecOptions options;
    options.stdin_data = script;
    options.timeout = std::chrono::seconds(60);
    return session.run(script_runner(false), options);
  }

  std::filesystem::path make_artifact() {
    std::filesystem::path source = keys_.path() / "app";
    std::filesystem::create_directories(source);
    std::ofstream(source / "server.js") << kServerJs;
    std::filesystem::path artifact = keys_.path() / "demo-v1.tar.gz";
    std::string command = "tar -czf " + artifact.string() + " -C " + source.string() + " .";
    EXPECT_EQ(std::system(command.c_str()), 0);
    return artifact;
  }

  // Runs every deploy step up to the first start.
  void deploy(Session& session) {
    std::string uploaded = (sshd_->scratch_folder() / "upload/demo-v1.tar.gz").string();
    ASSERT_TRUE(run_script(session, prepare_release_script(layout_)).ok());
    Status upload = session.upload(make_artifact(), uploaded, 0644);
    ASSERT_TRUE(upload.ok()) << upload.error().describe();
    ASSERT_TRUE(run_script(session, unpack_artifact_script(layout_, uploaded)).ok());
    ASSERT_TRUE(run_script(session, install_dependencies_script(layout_, Runtime::kNode)).ok());

    auto env = render_env_file({{"PORT", Secret(std::to_string(port_))}, {"GREETING", Secret("hello from $demo")}});
    ASSERT_TRUE(env.ok());
    Status written = session.write_secret_file(layout_.env_file(), *env);
    ASSERT_TRUE(written.ok()) << written.error().describe();

    ServiceSpec service{"node server.js", ""};
    ASSERT_TRUE(run_script(session, install_start_program_script(layout_, service)).ok());
    ASSERT_TRUE(run_script(session, install_supervisor_script(layout_)).ok());
    ASSERT_TRUE(run_script(session, switch_current_script(layout_)).ok());
    auto started = run_script(session, start_script(layout_, InitSystem::kFallback));
    ASSERT_TRUE(started.ok()) << started.error().describe();
    auto listening = run_script(session, wait_for_port_script(port_, 20));
    ASSERT_TRUE(listening.ok()) << listening.error().describe() << read_file(layout_.log_file());
  }

  std::string fetch(Session& session) {
    auto response = session.exec("curl -s --max-time 5 http://127.0.0.1:" + std::to_string(port_) + "/");
    return response.ok() ? response->stdout_text : response.error().describe();
  }

  ReleaseLayout layout_;
  int port_ = 0;
};

TEST_F(SupervisorTest, HostWithoutSystemdUsesFallback) {
  auto session = connect();
  ASSERT_TRUE(session);

  auto detected = session->run(detect_init_system_script());
  ASSERT_TRUE(detected.ok()) << detected.error().describe();
  auto init = parse_init_system(detected->stdout_text);
  ASSERT_TRUE(init.ok()) << init.error().describe();
  if (*init == InitSystem::kSystemd) GTEST_SKIP() << "this machine runs systemd";
  EXPECT_EQ(*init, InitSystem::kFallback);
}

TEST_F(SupervisorTest, RunsAppWithEnvironmentFile) {
  auto session = connect();
  ASSERT_TRUE(session);
  deploy(*session);
  if (HasFatalFailure()) return;

  EXPECT_EQ(fetch(*session), "hello from $demo\n");
  auto status = session->exec(script_runner(false), ExecOptions{status_script(layout_, InitSystem::kFallback)});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_status, 0);
  EXPECT_TRUE(status->stdout_text.starts_with("running (supervisor pid ")) << status->stdout_text;
  EXPECT_NE(read_file(layout_.log_file()).find("demo listening on " + std::to_string(port_)), std::string::npos);
}

TEST_F(SupervisorTest, RestartsAppAfterKill) {
  auto session = connect();
  ASSERT_TRUE(session);
  deploy(*session);
  if (HasFatalFailure()) return;
  std::string first_pid = trim(read_file(layout_.app_pid_file()));

  ASSERT_TRUE(session->run("kill -KILL " + first_pid).ok());
  // The supervisor waits 1 s before the restart; the loop allows 20 s.
  std::string wait_for_new_pid = "for i in $(seq 1 40); do [ \"$(cat " + layout_.app_pid_file() +
                                 ")\" != " + first_pid + " ] && exit 0; sleep 0.5; done; exit 1";
  ASSERT_TRUE(session->run(wait_for_new_pid).ok()) << read_file(layout_.log_file());
  ASSERT_TRUE(run_script(*session, wait_for_port_script(port_, 20)).ok()) << read_file(layout_.log_file());

  EXPECT_EQ(fetch(*session), "hello from $demo\n");
  std::string log = read_file(layout_.log_file());
  EXPECT_NE(log.find("supervisor: demo exited with status 137 after"), std::string::npos) << log;
  EXPECT_NE(log.find("restarting in 1s"), std::string::npos) << log;
  EXPECT_EQ(count_of(log, "demo listening on"), 2u) << log;
}

TEST_F(SupervisorTest, StopEndsSupervisorAndApp) {
  auto session = connect();
  ASSERT_TRUE(session);
  deploy(*session);
  if (HasFatalFailure()) return;
  std::string app_pid = trim(read_file(layout_.app_pid_file()));

  auto stopped = run_script(*session, stop_script(layout_, InitSystem::kFallback));
  ASSERT_TRUE(stopped.ok()) << stopped.error().describe();

  auto status = session->exec(script_runner(false), ExecOptions{status_script(layout_, InitSystem::kFallback)});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_status, 3);
  EXPECT_EQ(status->stdout_text, "stopped\n");
  auto alive = session->exec("kill -0 " + app_pid);
  ASSERT_TRUE(alive.ok());
  EXPECT_NE(alive->exit_status, 0) << "the app survived the stop";
  EXPECT_FALSE(std::filesystem::exists(layout_.supervisor_pid_file()));
}

TEST_F(SupervisorTest, SwitchCurrentPointsAtNewRelease) {
  auto session = connect();
  ASSERT_TRUE(session);
  auto second = make_release_layout("demo", "v2", layout_.base);
  ASSERT_TRUE(second.ok());

  for (const ReleaseLayout& release : {layout_, *second}) {
    ASSERT_TRUE(run_script(*session, prepare_release_script(release)).ok());
    auto switched = run_script(*session, switch_current_script(release));
    ASSERT_TRUE(switched.ok()) << switched.error().describe();
    EXPECT_EQ(std::filesystem::read_symlink(release.current_link()), "releases/" + release.version);
  }
  EXPECT_FALSE(std::filesystem::exists(layout_.app_folder() + "/current.new"));
}

TEST_F(SupervisorTest, SwitchToMissingReleaseFails) {
  auto session = connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(run_script(*session, prepare_release_script(layout_)).ok());
  ASSERT_TRUE(run_script(*session, switch_current_script(layout_)).ok());
  auto missing = make_release_layout("demo", "v9", layout_.base);
  ASSERT_TRUE(missing.ok());

  EXPECT_FALSE(run_script(*session, switch_current_script(*missing)).ok());
  EXPECT_EQ(std::filesystem::read_symlink(layout_.current_link()), "releases/v1");
}

TEST_F(SupervisorTest, PruneKeepsNewestAndCurrent) {
  auto session = connect();
  ASSERT_TRUE(session);
  // r1 is the oldest and stays because current points at it.
  for (const char* version : {"r1", "r2", "r3", "r4"}) {
    auto release = make_release_layout("demo", version, layout_.base);
    ASSERT_TRUE(release.ok());
    ASSERT_TRUE(run_script(*session, prepare_release_script(*release)).ok());
    if (std::string(version) == "r1") {
      ASSERT_TRUE(run_script(*session, switch_current_script(*release)).ok());
    }
    ::usleep(20'000);
  }

  auto pruned = run_script(*session, prune_releases_script(layout_, 2));
  ASSERT_TRUE(pruned.ok()) << pruned.error().describe();
  EXPECT_EQ(pruned->stdout_text, "removed release r2\n");
  auto listed = session->run("ls " + layout_.releases_folder());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->stdout_text, "r1\nr3\nr4\n");
}

}  // namespace
}  // namespace hivemind::remote
