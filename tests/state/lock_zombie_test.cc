// A lock holder that was killed but not yet reaped by its parent: a zombie
// has exited and closed its files, so its lock is taken over like any dead
// holder's.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/lock.h"
#include "support/temp_dir.h"

namespace hivemind::state {
namespace {

constexpr const char* kDeploymentId = "hm-shop-zombie";

TEST(DeploymentLockZombie, KilledUnreapedHolderIsTakenOver) {
  hivemind::testing::TempDir dir;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto lock = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind update", false});
    const char verdict = lock.ok() ? 'y' : 'n';
    if (::write(ready[1], &verdict, 1) != 1) ::_exit(2);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char verdict = 'n';
  ASSERT_EQ(::read(ready[0], &verdict, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(verdict, 'y');

  // Killed, and left a zombie until the end of the test.
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);

  auto taken = DeploymentLock::acquire(dir.path(), kDeploymentId, LockOptions{"hivemind retry", false});
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(taken.ok()) << taken.error().describe();
  ASSERT_TRUE(taken->taken_over_from().has_value());
  EXPECT_EQ(taken->taken_over_from()->pid, child);
}

}  // namespace
}  // namespace hivemind::state
