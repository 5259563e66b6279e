// The state store against a broken environment: a folder that cannot be
// made, a read-only file system, a full disk and damaged database files.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "state/store.h"
#include "state/store_fixture.h"

namespace hivemind::state {
namespace {

using testing::open_store;
using testing::sample_deployment;

Result<std::unique_ptr<Store>> try_open(const std::filesystem::path& dir, std::int64_t max_page_count = 0) {
  StoreOptions options;
  options.state_dir = dir;
  options.max_page_count = max_page_count;
  return Store::open(options);
}

std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_garbage(const std::filesystem::path& file, std::size_t offset, std::size_t count) {
  std::mt19937 random(7);
  std::string garbage(count, '\0');
  for (char& c : garbage) c = static_cast<char>(random());
  std::fstream out(file, std::ios::binary | std::ios::in | std::ios::out);
  if (!out) out.open(file, std::ios::binary | std::ios::out);
  out.seekp(static_cast<std::streamoff>(offset));
  out.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

// A file system mounted by the test and unmounted when it ends. Mounting
// needs root (or CAP_SYS_ADMIN); tests skip when the mount is refused.
class Mount {
 public:
  Mount() = default;
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }

  bool tmpfs(const std::filesystem::path& target, const std::string& size) {
    target_ = target;
    mounted_ = ::mount("tmpfs", target.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    return mounted_;
  }

  bool read_only_bind(const std::filesystem::path& source, const std::filesystem::path& target) {
    target_ = target;
    mounted_ = ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0;
    if (!mounted_) return false;
    return ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::filesystem::path target_;
  bool mounted_ = false;
};

TEST(StoreFailure, StateFolderUnderFileCannotBeCreated) {
  hivemind::testing::TempDir dir;
  std::ofstream(dir.path() / "plain_file") << "x";

  auto store = try_open(dir.path() / "plain_file" / "state");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.dir_create_failed");
  EXPECT_NE(store.error().message.find("plain_file/state"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().remediation.find("--state-dir"), std::string::npos);
}

TEST(StoreFailure, StateFolderThatIsAFileIsRejected) {
  hivemind::testing::TempDir dir;
  std::ofstream(dir.path() / "state") << "x";

  auto store = try_open(dir.path() / "state");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.dir_create_failed");
  EXPECT_NE(store.error().message.find("is not a folder"), std::string::npos);
}

TEST(StoreFailure, ReadOnlyFileSystemIsReported) {
  hivemind::testing::TempDir dir;
  const auto source = dir.path() / "state";
  const auto view = dir.path() / "read_only";
  {
    auto store = open_store(source);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_deployment(sample_deployment()).ok());
  }
  std::filesystem::create_directories(view);
  Mount mount;
  if (!mount.read_only_bind(source, view)) GTEST_SKIP() << "a read-only bind mount needs root";

  auto store = try_open(view);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.read_only");
  EXPECT_NE(store.error().message.find(view.string()), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("Read-only file system"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().remediation.find("Nothing was changed"), std::string::npos);

  auto nested = try_open(view / "new_state");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code, "state.dir_create_failed");
}

TEST(StoreFailure, ReadOnlyFolderIsReportedToUnprivilegedUser) {
  hivemind::testing::TempDir dir;
  const auto state_dir = dir.path() / "state";
  ASSERT_NE(open_store(state_dir), nullptr);
  std::filesystem::permissions(state_dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                              std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                                              std::filesystem::perms::others_read |
                                              std::filesystem::perms::others_exec);
  if (::geteuid() != 0) {
    auto store = try_open(state_dir);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, "state.read_only");
    return;
  }

  // Root ignores permission bits, so a child switches to the unprivileged
  // user `nobody` (uid 65534) first.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    auto store = try_open(state_dir);
    ::_exit(!store.ok() && store.error().code == "state.read_only" ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "exit code 1: opened or wrong error; 3: setuid failed";
}

// Fills the store with events of 1 KiB until a write fails, and returns how
// many were committed.
int fill_until_failure(Store& store, const std::string& deployment_id, Error& failure) {
  const std::string detail(1024, 'x');
  for (int i = 0; i < 100000; ++i) {
    auto appended = store.append_event(Event{0, deployment_id, {}, "test", "fill", "succeeded", detail});
    if (!appended.ok()) {
      failure = appended.error();
      return i;
    }
  }
  return -1;
}

void expect_latched_after_full(Store& store, const std::string& deployment_id, int committed) {
  auto refused = store.set_status(deployment_id, DeploymentStatus::failed);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.latched");
  EXPECT_NE(refused.error().message.find("disk holding"), std::string::npos) << refused.error().message;
  ASSERT_TRUE(store.latched_error().has_value());

  // Reads keep working and see every committed write.
  auto events = store.events(deployment_id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), static_cast<std::size_t>(committed));
}

TEST(StoreFailure, PageLimitActsAsFullDisk) {
  hivemind::testing::TempDir dir;
  Deployment deployment = sample_deployment();
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_deployment(deployment).ok());
  }

  auto store = open_store(dir.path(), /*max_page_count=*/40);
  ASSERT_NE(store, nullptr);
  Error failure;
  const int committed = fill_until_failure(*store, deployment.id, failure);
  ASSERT_GT(committed, 0);
  EXPECT_EQ(failure.code, "state.disk_full");
  EXPECT_NE(failure.remediation.find("hivemind:deployment=" + deployment.id), std::string::npos) << failure.remediation;
  EXPECT_NE(failure.remediation.find("hivemind destroy " + deployment.id), std::string::npos);
  expect_latched_after_full(*store, deployment.id, committed);

  store.reset();
  auto reopened = open_store(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->set_status(deployment.id, DeploymentStatus::failed).ok());
  EXPECT_EQ(reopened->events(deployment.id)->size(), static_cast<std::size_t>(committed));
}

TEST(StoreFailure, FullTmpfsIsReportedAndRecovered) {
  hivemind::testing::TempDir dir;
  const auto mount_point = dir.path() / "small";
  std::filesystem::create_directories(mount_point);
  Mount mount;
  if (!mount.tmpfs(mount_point, "512k")) GTEST_SKIP() << "mounting a tmpfs needs root";

  // A filler file to delete later, so that the disk can be freed.
  std::ofstream(mount_point / "filler") << std::string(128 * 1024, 'f');
  const auto state_dir = mount_point / "state";
  Deployment deployment = sample_deployment();
  auto store = open_store(state_dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->create_deployment(deployment).ok());

  Error failure;
  const int committed = fill_until_failure(*store, deployment.id, failure);
  ASSERT_GT(committed, 0);
  EXPECT_EQ(failure.code, "state.disk_full") << failure.describe();
  expect_latched_after_full(*store, deployment.id, committed);

  store.reset();
  std::filesystem::remove(mount_point / "filler");
  auto reopened = open_store(state_dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->events(deployment.id)->size(), static_cast<std::size_t>(committed));
  EXPECT_TRUE(reopened->set_status(deployment.id, DeploymentStatus::failed).ok());
}

TEST(StoreFailure, GarbageFileIsReportedUntouched) {
  hivemind::testing::TempDir dir;
  const auto database = dir.path() / "state.db";
  write_garbage(database, 0, 8192);
  const std::string before = read_bytes(database);

  auto store = try_open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.corrupt");
  EXPECT_NE(store.error().message.find(database.string()), std::string::npos);
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().remediation.find("mv " + database.string()), std::string::npos);
  EXPECT_NE(store.error().remediation.find("hivemind:deployment="), std::string::npos);
  EXPECT_EQ(read_bytes(database), before);
}

TEST(StoreFailure, DamagedPagesAreReported) {
  hivemind::testing::TempDir dir;
  const auto database = dir.path() / "state.db";
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    Deployment deployment = sample_deployment();
    ASSERT_TRUE(store->create_deployment(deployment).ok());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store->append_event(Event{0, deployment.id, {}, "t", "a", "o", std::string(200, 'e')}).ok());
    }
  }
  // Closing the last connection checkpoints the WAL into the main file.
  ASSERT_FALSE(std::filesystem::exists(dir.path() / "state.db-wal"));
  const auto size = std::filesystem::file_size(database);
  ASSERT_GT(size, 8 * 4096u);
  write_garbage(database, 4096 * 2, size - 4096 * 2);

  auto store = try_open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.corrupt") << store.error().describe();
}

TEST(StoreFailure, LatchedStoreStillReads) {
  hivemind::testing::TempDir dir;
  Deployment deployment = sample_deployment();
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_deployment(deployment).ok());
  }
  auto store = open_store(dir.path(), 40);
  ASSERT_NE(store, nullptr);
  Error failure;
  ASSERT_GT(fill_until_failure(*store, deployment.id, failure), 0);

  auto found = store->find_deployment(deployment.id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, deployment.id);
  auto refused = store->record_intent(ResourceIntent{deployment.id, "vpc", "ec2:vpc", "", 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.latched");
  EXPECT_NE(refused.error().remediation.find("reopens the state"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::state
