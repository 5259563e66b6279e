// `hivemind update` of the bundled sample app in the sandbox, through the
// real binary. While a loop of requests goes through the sandbox's load
// balancer, a blue-green update switches to a new commit without one failed
// request. A rolling update to a commit that fails its health check starts
// the previous release again. An update killed with SIGKILL at seeded
// instants is finished by running update again. Rollback then leaves nothing
// tagged.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "aws/cloudwatch.h"
#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kApp = "node-express-postgres";
constexpr const char* kOldHealth = R"({"status":"ok"})";
constexpr const char* kNewHealth = R"({"status":"ok","version":"two"})";

// Replaces `from` with `to` in a file of the repository.
void replace_in_file(const fs::path& file, const std::string& from, const std::string& to) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  auto at = content.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  content.replace(at, from.size(), to);
  std::ofstream(file) << content;
}

// What a loop of GETs through the load balancer saw.
struct Traffic {
  int old_replies = 0;
  int new_replies = 0;
  std::vector<std::string> failures;  // anything but HTTP 200 with one of the two bodies
  std::string last_body;
};

// Sends GET <url> every 100 ms until `stop` is set.
Traffic watch(const std::string& url, const std::atomic<bool>& stop) {
  Traffic traffic;
  while (!stop.load()) {
    HttpReply reply = http_get(url, 5s);
    if (reply.status == 200 && reply.body == kOldHealth) {
      ++traffic.old_replies;
    } else if (reply.status == 200 && reply.body == kNewHealth) {
      ++traffic.new_replies;
    } else {
      traffic.failures.push_back(std::to_string(reply.status) + " " + reply.body + reply.error);
    }
    traffic.last_body = reply.body;
    std::this_thread::sleep_for(100ms);
  }
  return traffic;
}

class UpdateTest : public SandboxTest {
 protected:
  // Deploys a fresh copy of the sample app and returns its id and the load
  // balancer's local health URL.
  void deploy(std::string& id, std::string& health_url) {
    auto repository = copy_example(kApp, sandbox().work_dir());
    ASSERT_TRUE(repository) << repository.error().describe();
    repository_ = *repository;
    CliRun deployed = sandbox().deploy(repository_);
    ASSERT_EQ(deployed.exit_code, 0) << deployed.describe();
    id = deployed.json().value("id", "");
    ASSERT_FALSE(id.empty()) << deployed.describe();

    CliRun status = sandbox().hivemind({"status", id, "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.describe();
    auto url = sandbox().local_url(status.json().value("url", ""));
    ASSERT_TRUE(url) << url.error().describe();
    health_url = *url + "/healthz";
    ASSERT_EQ(http_get(health_url).body, kOldHealth);
  }

  std::string version_of(const std::string& id) {
    CliRun status = sandbox().hivemind({"status", id, "--json"});
    return status.json().value("version", "");
  }

  fs::path repository_;
};

TEST_F(UpdateTest, BlueGreenSwitchLosesNoRequest) {
  std::string id, health_url;
  deploy(id, health_url);
  if (HasFatalFailure()) return;
  std::string old_version = version_of(id);
  std::string blue = sandbox().physical_id(id, "instance");
  replace_in_file(repository_ / "src" / "server.js", R"(res.json({ status: "ok" });)",
                  R"(res.json({ status: "ok", version: "two" });)");
  ASSERT_TRUE(commit_all(repository_, "Report the version in the health check"));

  // Without a terminal and without --yes, the update prompts for nothing and changes nothing.
  CliRun refused = sandbox().hivemind({"update", id});
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_NE(refused.err.find("standard input is not a terminal"), std::string::npos) << refused.describe();
  EXPECT_NE(refused.err.find("Nothing was changed."), std::string::npos) << refused.describe();
  EXPECT_EQ(sandbox().physical_id(id, "instance_green"), "");
  EXPECT_EQ(version_of(id), old_version);

  std::atomic<bool> stop{false};
  Traffic traffic;
  std::thread watcher([&] { traffic = watch(health_url, stop); });
  CliRun update = sandbox().hivemind({"update", id, "--yes", "--json"}, 10min);
  // Requests keep going a little after the switch, to the new instance only.
  std::this_thread::sleep_for(2s);
  stop = true;
  watcher.join();

  ASSERT_EQ(update.exit_code, 0) << update.describe();
  std::cerr << "blue-green update took " << update.duration.count() << " ms; " << traffic.old_replies
            << " replies from the old version, " << traffic.new_replies << " from the new one\n";
  EXPECT_TRUE(traffic.failures.empty()) << traffic.failures.size()
                                        << " failed requests, first: " << traffic.failures.front();
  EXPECT_GT(traffic.old_replies, 0);
  EXPECT_GT(traffic.new_replies, 0);
  EXPECT_EQ(traffic.last_body, kNewHealth);

  nlohmann::json outcome = update.json();
  EXPECT_EQ(outcome["update"].value("strategy", ""), "blue-green");
  EXPECT_EQ(outcome["update"].value("previous_version", ""), old_version);
  EXPECT_EQ(outcome["update"].value("previous_instance", ""), blue);
  std::string green = sandbox().physical_id(id, "instance");
  EXPECT_NE(green, blue);
  EXPECT_EQ(outcome["update"].value("current_instance", ""), green);
  std::string new_version = version_of(id);
  EXPECT_NE(new_version, old_version);
  EXPECT_EQ(outcome.value("version", ""), new_version);

  // The CPU alarm watches the new instance.
  auto client = sandbox().make_client();
  auto alarms = aws::cloudwatch::describe_alarms(*client, {"hivemind-" + id + "-high_cpu"});
  ASSERT_TRUE(alarms) << alarms.error().explanation();
  ASSERT_EQ(alarms->size(), 1u);
  ASSERT_EQ(alarms->front().dimensions.size(), 1u);
  EXPECT_EQ(alarms->front().dimensions.front().value, green);

  // The old instance is terminated: only the new one carries the tag.
  auto tagged = sandbox().tagged_resources(id);
  ASSERT_TRUE(tagged) << tagged.error().describe();
  EXPECT_EQ((*tagged)["ec2:instance"], 1);

  CliRun rollback = sandbox().hivemind({"rollback", id, "--yes"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.describe();
  EXPECT_EQ(sandbox().count_tagged(id), 0);
}

TEST_F(UpdateTest, RollingUpdateRestoresHealthyRelease) {
  std::string id, health_url;
  deploy(id, health_url);
  if (HasFatalFailure()) return;
  std::string old_version = version_of(id);
  std::string instance = sandbox().physical_id(id, "instance");
  // The new commit starts and listens, but its health check fails.
  replace_in_file(repository_ / "src" / "server.js", R"(res.json({ status: "ok" });)",
                  R"(res.status(500).json({ status: "broken" });)");
  ASSERT_TRUE(commit_all(repository_, "Break the health check"));

  CliRun update = sandbox().hivemind({"update", id, "--rolling", "--yes"}, 10min);

  EXPECT_EQ(update.exit_code, 1) << update.describe();
  EXPECT_NE(update.err.find("runs again in its place"), std::string::npos) << update.describe();
  EXPECT_EQ(http_get(health_url).body, kOldHealth);
  EXPECT_EQ(version_of(id), old_version);
  EXPECT_EQ(sandbox().physical_id(id, "instance"), instance);

  CliRun rollback = sandbox().hivemind({"rollback", id, "--yes"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.describe();
  EXPECT_EQ(sandbox().count_tagged(id), 0);
}

// Each blue-green update is killed (SIGKILL to its process group) at an
// instant drawn from [1 s, 20 s). A blue-green update took 18-22 s in this
// sandbox, so the instants cover launch, deploy, the switch and the old
// instance's retirement. After every kill the state opens, and a last update
// without a kill ends with the new version serving. HIVEMIND_FAULT_SEED
// replays a seed.
TEST_F(UpdateTest, KilledUpdateFinishesWhenRunAgain) {
  std::string id, health_url;
  deploy(id, health_url);
  if (HasFatalFailure()) return;
  replace_in_file(repository_ / "src" / "server.js", R"(res.json({ status: "ok" });)",
                  R"(res.json({ status: "ok", version: "two" });)");
  ASSERT_TRUE(commit_all(repository_, "Report the version in the health check"));

  const char* seed_text = std::getenv("HIVEMIND_FAULT_SEED");
  unsigned seed = seed_text != nullptr ? static_cast<unsigned>(std::strtoul(seed_text, nullptr, 10)) : 7u;
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> instant_ms(1000, 19999);
  for (int round = 0; round < 3; ++round) {
    auto kill_after = std::chrono::milliseconds(instant_ms(random));
    CliRun killed = sandbox().hivemind({"update", id, "--yes"}, kill_after);
    std::string context = "seed " + std::to_string(seed) + ", round " + std::to_string(round) + ", kill after " +
                          std::to_string(kill_after.count()) + " ms: " + killed.describe();
    CliRun status = sandbox().hivemind({"status", id, "--json"});
    ASSERT_EQ(status.exit_code, 0) << context << "\nstatus: " << status.describe();
  }

  CliRun finished = sandbox().hivemind({"update", id, "--yes", "--json"}, 10min);
  ASSERT_EQ(finished.exit_code, 0) << "seed " << seed << ": " << finished.describe();
  EXPECT_EQ(http_get(health_url).body, kNewHealth) << "seed " << seed;
  CliRun status = sandbox().hivemind({"status", id, "--json"});
  EXPECT_EQ(status.json().value("status", ""), "deployed") << status.describe();

  CliRun rollback = sandbox().hivemind({"rollback", id, "--yes"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.describe();
  EXPECT_EQ(sandbox().count_tagged(id), 0) << "seed " << seed;
}

}  // namespace
}  // namespace hivemind::testing
