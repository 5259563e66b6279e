// Kills a writing process at random instants and checks that the database
// always opens with every committed write intact.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>
#include <thread>

#include "state/sqlite.h"
#include "state/store.h"
#include "state/store_fixture.h"

namespace hivemind::state {
namespace {

constexpr int kSeeds = 40;
constexpr int kMaxDelayMicros = 20000;

// One iteration of the child's loop: the three writes that the engine makes
// around a create call, then an event. Returns false when a write fails.
bool write_iteration(Store& store, const std::string& deployment_id, int i) {
  const std::string name = "r" + std::to_string(i);
  if (!store.record_intent(ResourceIntent{deployment_id, name, "test:thing", "", 1.0}).ok()) return false;
  if (!store.record_created(deployment_id, name, "phys-" + std::to_string(i), "", R"({"i":1})").ok()) return false;
  return store.append_event(Event{0, deployment_id, {}, "crash", "create", "succeeded", std::to_string(i)}).ok();
}

// The child: writes iterations forever and reports each finished one on
// `report_fd`. Never returns.
[[noreturn]] void run_writer(const std::filesystem::path& state_dir, const std::string& deployment_id, int report_fd) {
  StoreOptions options;
  options.state_dir = state_dir;
  auto store = Store::open(options);
  if (!store.ok()) ::_exit(2);
  for (int i = 0;; ++i) {
    if (!write_iteration(**store, deployment_id, i)) ::_exit(3);
    if (::write(report_fd, &i, sizeof(i)) != sizeof(i)) ::_exit(4);
  }
}

// Reads every iteration number the child reported; returns the highest, or -1.
int drain_reports(int fd) {
  int highest = -1;
  int value = 0;
  while (::read(fd, &value, sizeof(value)) == sizeof(value)) highest = std::max(highest, value);
  return highest;
}

void expect_consistent(Store& store, const std::string& deployment_id, int highest_reported) {
  auto resources = store.resources(deployment_id);
  ASSERT_TRUE(resources.ok()) << resources.error().describe();
  auto events = store.events(deployment_id);
  ASSERT_TRUE(events.ok());

  // Every reported iteration is fully there.
  ASSERT_GE(resources->size(), static_cast<std::size_t>(highest_reported + 1));
  ASSERT_GE(events->size(), static_cast<std::size_t>(highest_reported + 1));
  for (int i = 0; i <= highest_reported; ++i) {
    const auto& resource = (*resources)[static_cast<std::size_t>(i)];
    EXPECT_EQ(resource.logical_name, "r" + std::to_string(i));
    EXPECT_EQ(resource.status, ResourceStatus::created);
    EXPECT_EQ(resource.physical_id, "phys-" + std::to_string(i));
    EXPECT_EQ((*events)[static_cast<std::size_t>(i)].detail, std::to_string(i));
  }

  // Rows past the last report are whole writes. A resource is an intent
  // without a physical id or a created row with one, and every event has its
  // created resource.
  std::set<std::string> created;
  for (const auto& resource : *resources) {
    const std::string suffix = resource.logical_name.substr(1);
    if (resource.status == ResourceStatus::created) {
      EXPECT_EQ(resource.physical_id, "phys-" + suffix);
      created.insert(suffix);
    } else {
      EXPECT_EQ(resource.status, ResourceStatus::creating);
      EXPECT_EQ(resource.physical_id, "");
    }
  }
  for (const auto& event : *events) EXPECT_EQ(created.count(event.detail), 1u) << event.detail;
}

TEST(StoreCrash, SurvivesKillAtRandomInstants) {
  hivemind::testing::TempDir dir;
  const auto state_dir = dir.path() / "state";
  int total_committed = 0;

  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Deployment deployment = testing::sample_deployment("crash" + std::to_string(seed));
    {
      auto store = testing::open_store(state_dir);
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->create_deployment(deployment).ok());
    }

    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      run_writer(state_dir, deployment.id, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);

    // Wait for the first report, so every kill lands in the write loop.
    int first = -1;
    ASSERT_EQ(::read(pipe_fds[0], &first, sizeof(first)), static_cast<ssize_t>(sizeof(first)));
    std::mt19937 random(static_cast<unsigned>(seed));
    std::this_thread::sleep_for(std::chrono::microseconds(random() % kMaxDelayMicros));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with code " << WEXITSTATUS(status);
    const int highest = std::max(first, drain_reports(pipe_fds[0]));
    ::close(pipe_fds[0]);

    auto store = testing::open_store(state_dir);
    ASSERT_NE(store, nullptr) << "the database did not open after the kill";
    expect_consistent(*store, deployment.id, highest);
    total_committed += highest + 1;
  }

  auto connection = sqlite::Connection::open(state_dir / "state.db");
  ASSERT_TRUE(connection.ok());
  auto verdict = connection->query_text("PRAGMA integrity_check");
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(*verdict, "ok");
  EXPECT_GT(total_committed, kSeeds);
}

}  // namespace
}  // namespace hivemind::state
