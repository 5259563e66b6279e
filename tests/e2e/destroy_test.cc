// `hivemind destroy` after the local state of a deployment was deleted: the
// Janitor finds every resource by its hivemind:deployment tag and deletes
// it, and the sandbox removes the host, the proxy and the database.

#include <gtest/gtest.h>

#include <thread>

#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DestroyTest : public SandboxTest {};

TEST_F(DestroyTest, FindsEverythingAfterStateDeleted) {
  auto repository = copy_example("node-express-postgres", sandbox().work_dir());
  ASSERT_TRUE(repository) << repository.error().describe();
  CliRun deploy = sandbox().deploy(*repository);
  ASSERT_EQ(deploy.exit_code, 0) << deploy.describe();
  std::string id = deploy.json().value("id", "");
  ASSERT_FALSE(id.empty()) << deploy.describe();
  int deployed = sandbox().count_tagged(id);
  ASSERT_GT(deployed, 10);

  // Delete the state database and the deployment's folder; the sandbox's own
  // folder stays, because the sandbox is still running.
  for (const char* name : {"state.db", "state.db-wal", "state.db-shm"}) fs::remove(sandbox().state_dir() / name);
  fs::remove_all(sandbox().state_dir() / id);
  CliRun status = sandbox().hivemind({"status", id, "--json"});
  ASSERT_NE(status.exit_code, 0) << "the state still knows " << id;

  CliRun destroy = sandbox().hivemind({"destroy", id, "--yes", "--json"}, 5min);

  EXPECT_EQ(destroy.exit_code, 0) << destroy.describe();
  nlohmann::json summary = destroy.json();
  ASSERT_TRUE(summary.is_object()) << destroy.describe();
  EXPECT_EQ(summary["ok"], true) << destroy.out;
  EXPECT_EQ(summary["deleted"].size(), static_cast<size_t>(deployed)) << destroy.out;
  auto left = sandbox().tagged_resources(id);
  ASSERT_TRUE(left) << left.error().describe();
  EXPECT_TRUE(left->empty()) << left->begin()->first;

  // The sandbox follows moto: the host, proxy and database go away.
  Result<sandbox::AddressMap> map = sandbox().address_map();
  for (int poll = 0; poll < 30 && map && (!map->hosts.empty() || !map->databases.empty()); ++poll) {
    std::this_thread::sleep_for(1s);
    map = sandbox().address_map();
  }
  ASSERT_TRUE(map) << map.error().describe();
  EXPECT_TRUE(map->hosts.empty());
  EXPECT_TRUE(map->databases.empty());
  EXPECT_TRUE(map->load_balancers.empty());
}

}  // namespace
}  // namespace hivemind::testing
