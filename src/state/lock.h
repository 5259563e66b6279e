#pragma once

// A lock per deployment that works across processes, so that two hivemind
// commands never act on the same deployment at once.
//
// Design: flock(LOCK_EX | LOCK_NB) on <state_dir>/<id>/deployment.lock is the
// authority. The kernel releases it when the holding process exits for any
// reason, SIGKILL included. The holder writes a record of itself (pid,
// host, command, start time, process start ticks, boot id) into the file. A
// process that is refused the lock names the holder from that record. A
// record left in a file whose flock is free is judged as follows:
//   - same host and boot, and the pid is gone or now belongs to a process that
//     started at another time: the holder died; the lock is taken over
//     automatically and the takeover is logged at warning level;
//   - the recorded process is still alive but holds no flock (the file was
//     removed and recreated under it, say): the lock is refused;
//   - same host but another boot id: the machine rebooted, so the holder is
//     dead and the lock is taken over as above;
//   - another host (a shared state folder): liveness cannot be checked here,
//     so the lock is refused unless LockOptions::force is set.
// The lock file is never deleted, because deleting it would let two processes
// flock two different files of the same name.
//
// Thread safety: a DeploymentLock is owned by one thread. flock locks belong
// to the open file, so a second acquire() in the same process is refused too.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "state/model.h"

namespace hivemind::state {

// The process that holds, or held, a deployment's lock.
struct LockHolder {
  int pid = 0;
  std::string host;
  std::string command;  // e.g. "hivemind deploy ./app"
  TimePoint since{};
  std::uint64_t start_ticks = 0;  // field 22 of /proc/<pid>/stat: start time after boot, in clock ticks
  std::string boot_id;            // /proc/sys/kernel/random/boot_id

  // Returns "pid 1234 on host web1 running `hivemind deploy` since 2026-...Z".
  std::string describe() const;
};

struct LockOptions {
  std::string command;  // recorded so that a refused process can name this holder
  // Takes over a recorded holder whose liveness cannot be checked from this
  // host. A holder on this host is judged by its pid either way.
  bool force = false;
};

class DeploymentLock {
 public:
  // Takes the lock of `deployment_id`, creating its folder when missing.
  // Errors: state.locked names the live holder; state.lock_unverifiable for a
  // holder on another host; state.lock_failed when the file cannot be used.
  static Result<DeploymentLock> acquire(const std::filesystem::path& state_dir, std::string_view deployment_id,
                                        const LockOptions& options);

  DeploymentLock(DeploymentLock&& other) noexcept;
  DeploymentLock& operator=(DeploymentLock&& other) noexcept;
  DeploymentLock(const DeploymentLock&) = delete;
  DeploymentLock& operator=(const DeploymentLock&) = delete;
  ~DeploymentLock();  // releases

  // Clears the holder record and releases the flock. Safe to call twice.
  void release();

  const LockHolder& holder() const { return holder_; }
  // The dead holder whose lock this one took over, if any.
  const std::optional<LockHolder>& taken_over_from() const { return taken_over_from_; }

 private:
  DeploymentLock(int fd, LockHolder holder, std::optional<LockHolder> taken_over_from);

  int fd_;
  LockHolder holder_;
  std::optional<LockHolder> taken_over_from_;
};

// Returns the holder recorded in the deployment's lock file, or nullopt when
// the lock is free or has never been taken. For `hivemind status`.
Result<std::optional<LockHolder>> read_lock_holder(const std::filesystem::path& state_dir,
                                                   std::string_view deployment_id);

// Describes the running process as a lock holder.
LockHolder current_process_holder(std::string command);

// Returns true when `holder` is on this host and boot and its process is
// still the one that took the lock (same pid and start ticks).
bool holder_is_alive(const LockHolder& holder);

// Returns true when `holder` was recorded on this host (any boot).
bool holder_is_local(const LockHolder& holder);

}  // namespace hivemind::state
