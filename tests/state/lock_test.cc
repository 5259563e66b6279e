// The deployment lock across real processes: a live holder is named, a dead
// holder's lock is taken over.

#include "state/lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "state/paths.h"
#include "support/temp_dir.h"

namespace hivemind::state {
namespace {

constexpr const char* kDeploymentId = "hm-shop-abcdef";

// A child process that takes the lock, reports on a pipe, then holds the lock
// until the parent closes its end of a second pipe (or kills it).
class LockingChild {
 public:
  explicit LockingChild(const std::filesystem::path& state_dir) {
    int ready[2];
    int hold[2];
    if (::pipe(ready) != 0 || ::pipe(hold) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(hold[1]);
      auto lock = DeploymentLock::acquire(state_dir, kDeploymentId, LockOptions{"hivemind deploy ./shop", false});
      const char verdict = lock.ok() ? 'y' : 'n';
      if (::write(ready[1], &verdict, 1) != 1) ::_exit(2);
      char ignored;
      while (::read(hold[0], &ignored, 1) > 0) {
      }
      // _exit() runs no destructor, so the lock is released by hand.
      if (lock.ok()) lock->release();
      ::_exit(lock.ok() ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    hold_fd_ = hold[1];
    char verdict = 'n';
    locked_ = ::read(ready[0], &verdict, 1) == 1 && verdict == 'y';
    ::close(ready[0]);
  }

  ~LockingChild() {
    if (hold_fd_ >= 0) ::close(hold_fd_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  bool locked() const { return locked_; }
  pid_t pid() const { return pid_; }

  // Lets the child release the lock and exit normally.
  void finish() {
    ::close(hold_fd_);
    hold_fd_ = -1;
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  void kill() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int hold_fd_ = -1;
  bool locked_ = false;
};

void write_record(const std::filesystem::path& state_dir, const std::string& json) {
  auto paths = ensure_deployment_dirs(state_dir, kDeploymentId);
  ASSERT_TRUE(paths.ok());
  std::ofstream(paths->lock_file) << json;
}

std::string record_json(const LockHolder& holder) {
  return "{\"pid\":" + std::to_string(holder.pid) + ",\"host\":\"" + holder.host + "\",\"command\":\"" +
         holder.command + "\",\"since_ms\":1700000000000,\"start_ticks\":" + std::to_string(holder.start_ticks) +
         ",\"boot_id\":\"" + holder.boot_id + "\"}";
}

TEST(DeploymentLock, SecondProcessIsToldWhoHoldsIt) {
  hivemind::testing::TempDir dir;
  LockingChild child(dir.path());
  ASSERT_TRUE(child.locked());

  auto refused = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.locked");
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("pid " + std::to_string(child.pid())), std::string::npos) << message;
  EXPECT_NE(message.find("running `hivemind deploy ./shop` since "), std::string::npos) << message;
  EXPECT_NE(message.find("on host "), std::string::npos) << message;
  EXPECT_NE(refused.error().remediation.find("kill " + std::to_string(child.pid())), std::string::npos);

  auto holder = read_lock_holder(dir.path(), kDeploymentId);
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder->has_value());
  EXPECT_EQ((*holder)->pid, child.pid());
}

TEST(DeploymentLock, ReleasedLockIsFreeWithoutTakeover) {
  hivemind::testing::TempDir dir;
  LockingChild child(dir.path());
  ASSERT_TRUE(child.locked());
  child.finish();

  auto lock = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind status", false});
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  EXPECT_FALSE(lock->taken_over_from().has_value());
  EXPECT_EQ(lock->holder().pid, ::getpid());
}

TEST(DeploymentLock, KilledHolderIsTakenOver) {
  hivemind::testing::TempDir dir;
  LockingChild child(dir.path());
  ASSERT_TRUE(child.locked());
  const pid_t dead_pid = child.pid();
  child.kill();

  auto stale = read_lock_holder(dir.path(), kDeploymentId);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->has_value()) << "a dead holder's record is reported as free";

  auto lock = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  ASSERT_TRUE(lock->taken_over_from().has_value());
  EXPECT_EQ(lock->taken_over_from()->pid, dead_pid);
  EXPECT_EQ(lock->taken_over_from()->command, "hivemind deploy ./shop");
}

TEST(DeploymentLock, SameProcessCannotLockTwice) {
  hivemind::testing::TempDir dir;
  auto first = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"first", false});
  ASSERT_TRUE(first.ok());
  auto second = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"second", false});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "state.locked");

  first->release();
  auto third = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"third", false});
  EXPECT_TRUE(third.ok());
}

TEST(DeploymentLock, ReusedPidWithOtherStartTimeIsStale) {
  hivemind::testing::TempDir dir;
  LockHolder reused = current_process_holder("hivemind deploy");
  reused.pid = 1;  // alive, but not the process that took the lock
  reused.start_ticks = 999999999;
  write_record(dir.path(), record_json(reused));
  EXPECT_FALSE(holder_is_alive(reused));

  auto lock = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  ASSERT_TRUE(lock->taken_over_from().has_value());
  EXPECT_EQ(lock->taken_over_from()->pid, 1);
}

TEST(DeploymentLock, LiveRecordedHolderWithoutFlockIsRefused) {
  hivemind::testing::TempDir dir;
  const pid_t sleeper = ::fork();
  ASSERT_GE(sleeper, 0);
  if (sleeper == 0) {
    ::pause();
    ::_exit(0);
  }
  LockHolder live = current_process_holder("hivemind deploy");
  live.pid = sleeper;
  // The sleeper's own start ticks, read the same way the lock reads them.
  std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 1));
  std::string field;
  for (int index = 3; index <= 22; ++index) fields >> field;
  live.start_ticks = std::stoull(field);
  write_record(dir.path(), record_json(live));

  auto refused = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);

  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.locked");
  EXPECT_NE(refused.error().message.find("pid " + std::to_string(sleeper)), std::string::npos);
}

TEST(DeploymentLock, HolderFromEarlierBootIsStale) {
  hivemind::testing::TempDir dir;
  LockHolder before_reboot = current_process_holder("hivemind deploy");
  before_reboot.boot_id = "00000000-0000-0000-0000-000000000000";
  write_record(dir.path(), record_json(before_reboot));
  EXPECT_FALSE(holder_is_alive(before_reboot));

  auto lock = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  ASSERT_TRUE(lock->taken_over_from().has_value());
  EXPECT_EQ(lock->taken_over_from()->boot_id, before_reboot.boot_id);
}

TEST(DeploymentLock, ForeignHostNeedsForce) {
  hivemind::testing::TempDir dir;
  LockHolder foreign = current_process_holder("hivemind deploy");
  foreign.host = "build-server-7";
  write_record(dir.path(), record_json(foreign));

  auto refused = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.lock_unverifiable");
  EXPECT_NE(refused.error().message.find("build-server-7"), std::string::npos);
  EXPECT_NE(refused.error().remediation.find("--force-unlock"), std::string::npos);

  auto forced = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind destroy", true});
  ASSERT_TRUE(forced.ok()) << forced.error().describe();
  EXPECT_EQ(forced->taken_over_from()->host, "build-server-7");
}

TEST(DeploymentLock, RejectsInvalidDeploymentId) {
  hivemind::testing::TempDir dir;
  auto lock = DeploymentLock::acquire(dir.path(), "../../etc", LockOptions{"x", false});
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().code, "state.invalid_id");
}

}  // namespace
}  // namespace hivemind::state
