// The real hivemind binary under faults, against the test's moto_server and
// with no sandbox. The cases: SIGKILL at seeded random instants during
// deploy, rollback and destroy, two commands racing on one deployment, two
// deployments at once from one state folder, and a state folder on a disk
// that fills up. Outside the sandbox the deploy stage does not connect to the
// addresses that moto invents, so no deployment here ends deployed. Each
// command that recovers from a kill must therefore end with zero tagged
// resources, and the state must open after every kill.
//
// A kill lands uniformly in [0, T], where T is the duration of the same
// command run once without a kill in the same test, so the instants follow
// the machine's speed. Set HIVEMIND_FAULT_SEED to replay a run and
// HIVEMIND_KILL_ROUNDS to run more kills than the default.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/process.h"
#include "infra/discovery.h"
#include "state/lock.h"
#include "state/store.h"
#include "support/fault_proxy.h"
#include "support/git_app.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::infra {
namespace {

using namespace std::chrono_literals;
using hivemind::testing::TempDir;

constexpr const char* kSshCidr = "203.0.113.7/32";
constexpr int kDefaultRounds = 3;
constexpr auto kCommandTimeout = std::chrono::minutes(3);

unsigned base_seed() {
  const char* text = std::getenv("HIVEMIND_FAULT_SEED");
  return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 20261204u;
}

int rounds() {
  const char* text = std::getenv("HIVEMIND_KILL_ROUNDS");
  const int parsed = text != nullptr ? std::atoi(text) : 0;
  return parsed > 0 ? parsed : kDefaultRounds;
}

std::string replay_hint(unsigned seed) {
  return "kill seed " + std::to_string(seed) + " (replay with HIVEMIND_FAULT_SEED=" + std::to_string(seed) + ")";
}

// One run of the binary. `killed` is true when the timeout's SIGKILL ended it.
struct CommandRun {
  bool killed = false;
  int exit_code = -1;
  std::string output;  // standard output and standard error, interleaved
  std::chrono::milliseconds duration{0};
};

// How a test recovers a deployment after a kill.
enum class Recovery { kRetry, kRollback, kDestroy };

const char* recovery_name(Recovery recovery) {
  switch (recovery) {
    case Recovery::kRetry:
      return "retry";
    case Recovery::kRollback:
      return "rollback";
    case Recovery::kDestroy:
      return "destroy";
  }
  return "?";
}

// Parses the JSON document in a command's output, which also carries the
// progress lines of standard error before it.
nlohmann::json parse_json_output(const std::string& output) {
  const std::size_t start = output.starts_with("{") ? 0 : output.find("\n{");
  if (start == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(output.substr(start), nullptr, false);
}

bool is_finished(state::DeploymentStatus status) {
  return status == state::DeploymentStatus::rolled_back || status == state::DeploymentStatus::destroyed;
}

class CliFaultsTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    state_dir_ = temp_.path() / "state";
    std::filesystem::create_directories(temp_.path() / "home");
    app_ = testing::make_node_app(temp_.path(), "tiny-web");
  }

  // Runs hivemind with the test's AWS environment and no terminal, and kills
  // its process group with SIGKILL once `kill_after` has passed.
  // `endpoint` replaces moto's for every AWS service when set.
  CommandRun hivemind(std::vector<std::string> arguments, std::chrono::milliseconds kill_after = kCommandTimeout,
                      const std::string& endpoint = "") {
    std::vector<std::string> argv{HIVEMIND_BINARY_DIR "/hivemind", "--no-color", "--state-dir", state_dir_.string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());

    ProcessOptions options;
    options.timeout = kill_after;
    const std::string home = (temp_.path() / "home").string();
    const char* path = std::getenv("PATH");
    options.environment = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"},
                           {"HOME", home},
                           {"AWS_CONFIG_FILE", home + "/config"},
                           {"AWS_SHARED_CREDENTIALS_FILE", home + "/credentials"},
                           {"AWS_ENDPOINT_URL", endpoint.empty() ? moto().endpoint() : endpoint},
                           {"AWS_ACCESS_KEY_ID", "testing"},
                           {"AWS_SECRET_ACCESS_KEY", "testing"},
                           {"AWS_REGION", "us-east-1"},
                           {"AWS_EC2_METADATA_DISABLED", "true"}};
    auto result = run_process(argv, options);
    EXPECT_TRUE(result.ok()) << result.error().describe();
    if (!result.ok()) return {};
    return {result->timed_out, result->exit_code, result->output, result->duration};
  }

  std::vector<std::string> deploy_arguments(bool auto_cleanup, const std::filesystem::path& app = {}) {
    std::vector<std::string> arguments{
        "--json", "deploy", app.empty() ? app_.string() : app.string(), "--target", "aws", "--ssh-cidr", kSshCidr};
    if (!auto_cleanup) arguments.push_back("--no-auto-cleanup");
    return arguments;
  }

  std::vector<std::string> rollback_arguments(const std::string& id) {
    return {"--yes", "rollback", id, "--target", "aws"};
  }

  std::vector<std::string> destroy_arguments(const std::string& id) {
    return {"--yes", "destroy", id, "--target", "aws", "--skip-final-snapshot"};
  }

  // Opens the state as the next command would, and returns its deployments.
  // Fails the test when the store or `hivemind list` cannot read it.
  std::vector<state::Deployment> deployments_after_kill() {
    state::StoreOptions options;
    options.state_dir = state_dir_;
    auto store = state::Store::open(options);
    EXPECT_TRUE(store.ok()) << "the state did not open after the kill: " << store.error().describe();
    if (!store.ok()) return {};
    auto listed = (*store)->list_deployments();
    EXPECT_TRUE(listed.ok()) << listed.error().describe();

    CommandRun list = hivemind({"list"});
    EXPECT_EQ(list.exit_code, 0) << list.output;
    return listed.ok() ? *listed : std::vector<state::Deployment>{};
  }

  // Every resource that carries a HiveMind deployment tag, of any deployment
  // when `id` is empty, asked of moto directly.
  std::vector<DiscoveredResource> tagged(const std::string& id = "") {
    auto found = discover(client(), id);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().to_error().describe());
    return found.ok() ? *found : std::vector<DiscoveredResource>{};
  }

  std::string describe_tagged(const std::string& id = "") {
    std::string text;
    for (const DiscoveredResource& resource : tagged(id)) {
      text += "\n  " + resource.deployment_id + " " + resource.kind + " " + resource.physical_id;
    }
    return text;
  }

  // Runs `recovery` on deployment `id` and checks that it ends with zero
  // tagged resources. A retry that is rejected because a rollback or destroy
  // stopped halfway is followed by the command that its message names.
  void recover(const std::string& id, Recovery recovery) {
    SCOPED_TRACE(std::string("recovery by ") + recovery_name(recovery) + " of " + id);
    CommandRun run;
    if (recovery == Recovery::kRetry) {
      run = hivemind({"retry", id, "--target", "aws"});
      if (run.output.find("nothing to retry") != std::string::npos) {
        if (run.output.find("hivemind rollback") != std::string::npos) run = hivemind(rollback_arguments(id));
        if (run.output.find("hivemind destroy") != std::string::npos) run = hivemind(destroy_arguments(id));
      }
    }
    if (recovery == Recovery::kRollback) run = hivemind(rollback_arguments(id));
    if (recovery == Recovery::kDestroy) run = hivemind(destroy_arguments(id));
    ASSERT_FALSE(run.killed) << run.output;

    // A retry resumes at the interrupted stage and then fails at the deploy
    // stage again, which rolls the deployment back.
    const bool retried = run.output.find("deploy failed") != std::string::npos;
    EXPECT_EQ(run.exit_code, retried ? 1 : 0) << run.output;
    EXPECT_TRUE(tagged(id).empty()) << "left after " << recovery_name(recovery) << ":" << describe_tagged(id)
                                    << "\noutput:\n"
                                    << run.output;
  }

  // Deploys with --no-auto-cleanup, so that the failed deployment keeps its
  // resources, and returns its id.
  std::string deploy_and_keep(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> arguments = deploy_arguments(false);
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    CommandRun run = hivemind(arguments);
    EXPECT_FALSE(run.killed);
    nlohmann::json outcome = parse_json_output(run.output);
    EXPECT_TRUE(outcome.is_object()) << run.output;
    if (!outcome.is_object() || !outcome.contains("id")) {
      ADD_FAILURE() << "the deploy printed no id: " << run.output;
      return "";
    }
    EXPECT_EQ(outcome["status"], "failed") << outcome.dump(2);
    return outcome["id"];
  }

  // Kills `arguments` of a kept deployment at random instants, in rounds,
  // then recovers it by rollback or destroy, alternately.
  void kill_teardown_in_rounds(const std::string& command) {
    auto arguments_for = [&](const std::string& id) {
      return command == "rollback" ? rollback_arguments(id) : destroy_arguments(id);
    };

    // The duration of one teardown without a kill bounds the kill instants.
    const std::string calibration_id = deploy_and_keep();
    ASSERT_FALSE(calibration_id.empty());
    ASSERT_FALSE(tagged(calibration_id).empty());
    CommandRun full = hivemind(arguments_for(calibration_id));
    ASSERT_FALSE(full.killed) << full.output;
    ASSERT_EQ(full.exit_code, 0) << full.output;
    ASSERT_TRUE(tagged(calibration_id).empty()) << describe_tagged(calibration_id);

    int killed_rounds = 0;
    for (int round = 0; round < rounds(); ++round) {
      const unsigned seed = base_seed() + static_cast<unsigned>(round);
      SCOPED_TRACE(replay_hint(seed));
      const std::string id = deploy_and_keep();
      ASSERT_FALSE(id.empty());

      std::mt19937 random(seed);
      const auto delay = std::chrono::milliseconds(random() % (full.duration.count() + 1));
      CommandRun killed = hivemind(arguments_for(id), delay);
      killed_rounds += killed.killed ? 1 : 0;

      std::vector<state::Deployment> listed = deployments_after_kill();
      ASSERT_EQ(listed.size(), static_cast<std::size_t>(round + 2));
      recover(id, round % 2 == 0 ? Recovery::kRollback : Recovery::kDestroy);
      if (HasFailure()) return;
    }
    EXPECT_GT(killed_rounds, 0) << "every " << command << " finished before its kill";
  }

  TempDir temp_;
  std::filesystem::path state_dir_;
  std::filesystem::path app_;
};

TEST_F(CliFaultsTest, KilledDeployIsCleanedUp) {
  // Without a kill the deploy fails at the deploy stage and rolls back. The
  // first run also builds the app and took 1.7 s against 0.3 s for later
  // runs, so the second run's duration bounds the kill instants.
  CommandRun full;
  for (int run = 0; run < 2; ++run) {
    full = hivemind(deploy_arguments(true));
    ASSERT_FALSE(full.killed) << full.output;
    ASSERT_EQ(full.exit_code, 1) << full.output;
    ASSERT_TRUE(tagged().empty()) << describe_tagged();
  }

  const std::vector<Recovery> recoveries = {Recovery::kRollback, Recovery::kDestroy, Recovery::kRetry};
  int killed_rounds = 0;
  for (int round = 0; round < rounds(); ++round) {
    const unsigned seed = base_seed() + static_cast<unsigned>(round);
    SCOPED_TRACE(replay_hint(seed));
    std::mt19937 random(seed);
    const auto delay = std::chrono::milliseconds(random() % (full.duration.count() + 1));
    CommandRun killed = hivemind(deploy_arguments(true), delay);
    killed_rounds += killed.killed ? 1 : 0;

    for (const state::Deployment& deployment : deployments_after_kill()) {
      if (is_finished(deployment.status)) continue;
      recover(deployment.id, recoveries[static_cast<std::size_t>(round) % recoveries.size()]);
    }
    // A kill before the deployment was recorded must leave nothing either.
    EXPECT_TRUE(tagged().empty()) << describe_tagged();
    if (HasFailure()) return;
  }
  EXPECT_GT(killed_rounds, 0) << "every deploy finished before its kill";
}

// The state a deploy killed during provision leaves, made on purpose: the
// deployment `deploying` and its provision stage still running. Retry
// records the stage as cancelled, resumes there with the resources it
// already has, and fails again at the deploy stage.
TEST_F(CliFaultsTest, RetryResumesInterruptedDeploy) {
  const std::string id = deploy_and_keep();
  ASSERT_FALSE(id.empty());
  std::map<std::string, int> before;
  for (const DiscoveredResource& resource : tagged(id)) before[resource.logical_name]++;
  {
    state::StoreOptions options;
    options.state_dir = state_dir_;
    auto store = state::Store::open(options);
    ASSERT_TRUE(store.ok()) << store.error().describe();
    auto deployment = (*store)->find_deployment(id);
    ASSERT_TRUE(deployment.ok());
    deployment->status = state::DeploymentStatus::deploying;
    deployment->failed_stage.reset();
    deployment->failure.reset();
    ASSERT_TRUE((*store)->update_deployment(*deployment).ok());
    ASSERT_TRUE((*store)->start_stage(id, state::StageName::provision, 1, std::chrono::system_clock::now()).ok());
  }

  CommandRun retried = hivemind({"--json", "retry", id, "--target", "aws"});
  EXPECT_EQ(retried.exit_code, 1) << retried.output;
  nlohmann::json outcome = parse_json_output(retried.output);
  ASSERT_TRUE(outcome.is_object()) << retried.output;
  EXPECT_EQ(outcome["status"], "failed") << outcome.dump(2);
  EXPECT_EQ(outcome["failed_stage"], "deploy") << outcome.dump(2);
  EXPECT_EQ(outcome["retry_count"], 1) << outcome.dump(2);

  state::StoreOptions options;
  options.state_dir = state_dir_;
  auto store = state::Store::open(options);
  ASSERT_TRUE(store.ok());
  auto runs = (*store)->stage_runs(id);
  ASSERT_TRUE(runs.ok());
  int cancelled = 0;
  for (const state::StageRun& run : *runs) cancelled += run.outcome == state::StageOutcome::cancelled ? 1 : 0;
  EXPECT_EQ(cancelled, 1);
  std::map<std::string, int> after;
  for (const DiscoveredResource& resource : tagged(id)) after[resource.logical_name]++;
  EXPECT_EQ(after, before);

  recover(id, Recovery::kRollback);
}

TEST_F(CliFaultsTest, KilledRollbackIsFinished) { kill_teardown_in_rounds("rollback"); }

TEST_F(CliFaultsTest, KilledDestroyIsFinished) { kill_teardown_in_rounds("destroy"); }

// The first command holds the deployment's lock while the proxy's latency
// profile keeps the database `deleting`. A second command started then is
// rejected with the holder's pid, and the first one finishes alone.
TEST_F(CliFaultsTest, RacingCommandIsRejected) {
  const std::string id = deploy_and_keep({"--db"});
  ASSERT_FALSE(id.empty());
  testing::FaultOptions slow;
  slow.latency.scale = 0.03;  // the database takes 9 s to delete
  testing::FaultProxy proxy(moto().endpoint(), slow);
  ASSERT_TRUE(proxy.listening());

  CommandRun first;
  std::thread first_thread([&] { first = hivemind(rollback_arguments(id), kCommandTimeout, proxy.endpoint()); });
  std::optional<state::LockHolder> holder;
  for (int poll = 0; poll < 3000 && !holder; ++poll) {
    auto read = state::read_lock_holder(state_dir_, id);
    if (read.ok() && *read) holder = **read;
    if (!holder) std::this_thread::sleep_for(20ms);
  }
  CommandRun second = holder ? hivemind(destroy_arguments(id)) : CommandRun{};
  first_thread.join();

  ASSERT_TRUE(holder.has_value()) << "the rollback never took the lock: " << first.output;
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("is locked by"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("pid " + std::to_string(holder->pid)), std::string::npos) << second.output;
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(tagged(id).empty()) << describe_tagged(id);
  EXPECT_GT(proxy.request_count(), 0);
}

// Two deploys of two apps at once, from one state folder: each records its
// own deployment and all of its resources, and each destroys cleanly.
TEST_F(CliFaultsTest, TwoParallelDeploysShareStateFolder) {
  const std::filesystem::path other_app = testing::make_node_app(temp_.path(), "other-web");
  CommandRun left;
  CommandRun right;
  std::thread left_thread([&] { left = hivemind(deploy_arguments(false)); });
  std::thread right_thread([&] { right = hivemind(deploy_arguments(false, other_app)); });
  left_thread.join();
  right_thread.join();

  std::vector<std::string> ids;
  for (const CommandRun* run : {&left, &right}) {
    nlohmann::json outcome = parse_json_output(run->output);
    ASSERT_TRUE(outcome.is_object()) << run->output;
    ASSERT_TRUE(outcome.contains("id")) << run->output;
    EXPECT_EQ(outcome["status"], "failed") << outcome.dump(2);
    EXPECT_EQ(outcome["failed_stage"], "deploy") << outcome.dump(2);
    ids.push_back(outcome["id"]);
  }
  ASSERT_NE(ids[0], ids[1]);

  std::vector<state::Deployment> listed = deployments_after_kill();
  EXPECT_EQ(listed.size(), 2u);
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    std::map<std::string, int> counts;
    for (const DiscoveredResource& resource : tagged(id)) counts[resource.logical_name]++;
    EXPECT_FALSE(counts.empty());
    for (const auto& [name, count] : counts) EXPECT_EQ(count, 1) << name << " was created " << count << " times";
    recover(id, Recovery::kDestroy);
  }
  EXPECT_TRUE(tagged().empty()) << describe_tagged();
}

// A tmpfs that the test mounts and unmounts, with a filler file that leaves
// `free_bytes` of it free until remove_filler(). Mounting needs root.
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& mount_point, std::size_t size_bytes) : mount_point_(mount_point) {
    std::filesystem::create_directories(mount_point);
    const std::string options = "size=" + std::to_string(size_bytes);
    mounted_ = ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }

  // Writes the filler until the disk is full, then shrinks it so that
  // `free_bytes` are left.
  void leave_free(std::size_t free_bytes) {
    {
      std::ofstream filler(mount_point_ / "filler", std::ios::binary);
      const std::string block(64 * 1024, 'f');
      while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      }
    }
    std::error_code error;
    const auto size = std::filesystem::file_size(mount_point_ / "filler", error);
    if (!error) std::filesystem::resize_file(mount_point_ / "filler", size > free_bytes ? size - free_bytes : 0);
  }

  void remove_filler() { std::filesystem::remove(mount_point_ / "filler"); }

 private:
  std::filesystem::path mount_point_;
  bool mounted_ = false;
};

// The state folder on a disk that fills up during the deploy, at several
// amounts of free space so that the failing write lands at different stages.
// The deploy fails with a message that names the full disk. Every resource
// it created carries its tag, so a destroy after the disk was freed leaves
// none.
TEST_F(CliFaultsTest, FullStateDiskKeepsResourcesTagged) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  int stopped_with_resources = 0;
  for (std::size_t free_kib : {96, 192, 384}) {
    SCOPED_TRACE(std::to_string(free_kib) + " KiB free");
    const std::filesystem::path mount_point = temp_.path() / ("disk" + std::to_string(free_kib));
    SmallDisk disk(mount_point, 4 * 1024 * 1024);
    ASSERT_TRUE(disk.mounted()) << "mount failed: " << std::strerror(errno);
    state_dir_ = mount_point / "state";
    ASSERT_EQ(hivemind({"list"}).exit_code, 0);
    disk.leave_free(free_kib * 1024);

    CommandRun full = hivemind(deploy_arguments(false));
    ASSERT_FALSE(full.killed) << full.output;
    if (full.exit_code == 0) continue;  // everything fitted
    EXPECT_EQ(full.exit_code, 1) << full.output;
    const bool named =
        full.output.find("No space left") != std::string::npos || full.output.find("disk") != std::string::npos;
    EXPECT_TRUE(named) << "the failure does not name the full disk:\n" << full.output;

    disk.remove_filler();
    for (const state::Deployment& deployment : deployments_after_kill()) {
      if (!tagged(deployment.id).empty()) stopped_with_resources++;
      recover(deployment.id, Recovery::kDestroy);
    }
    EXPECT_TRUE(tagged().empty()) << describe_tagged();
    if (HasFailure()) return;
  }
  EXPECT_GT(stopped_with_resources, 0) << "no amount of free space stopped the deploy after it created resources";
}

}  // namespace
}  // namespace hivemind::infra
