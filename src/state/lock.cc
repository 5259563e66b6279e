#include "state/lock.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "common/log.h"
#include "state/paths.h"

namespace hivemind::state {
namespace {

std::string read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Returns field 22 of /proc/<pid>/stat (start time in clock ticks after
// boot), or 0 when the process does not exist or has exited. A zombie (state
// Z or X in field 3) has exited and closed its files, and only waits for its
// parent to read its exit status, which a killed or careless parent never
// does. The command name in field 2 may hold spaces and parentheses, so
// fields are counted after the last ')'.
std::uint64_t process_start_ticks(int pid) {
  const std::string stat = read_small_file(fmt::format("/proc/{}/stat", pid));
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;

  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  // After ')' come field 3 (state) onwards, so field 22 is the 20th token.
  for (int index = 3; index <= 22; ++index) {
    if (!(fields >> field)) return 0;
    if (index == 3 && (field == "Z" || field == "X")) return 0;
  }
  return std::stoull(field);
}

std::string boot_id() {
  std::string id = read_small_file("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

std::string to_json(const LockHolder& holder) {
  nlohmann::json json = {
      {"pid", holder.pid},
      {"host", holder.host},
      {"command", holder.command},
      {"since_ms", std::chrono::duration_cast<std::chrono::milliseconds>(holder.since.time_since_epoch()).count()},
      {"start_ticks", holder.start_ticks},
      {"boot_id", holder.boot_id},
  };
  return json.dump() + "\n";
}

std::optional<LockHolder> parse_holder(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("pid")) return std::nullopt;

  LockHolder holder;
  holder.pid = json.value("pid", 0);
  holder.host = json.value("host", "");
  holder.command = json.value("command", "");
  holder.since = TimePoint(std::chrono::milliseconds(json.value("since_ms", std::int64_t{0})));
  holder.start_ticks = json.value("start_ticks", std::uint64_t{0});
  holder.boot_id = json.value("boot_id", "");
  return holder;
}

std::optional<LockHolder> read_holder(int fd) {
  std::string text;
  char buffer[1024];
  off_t offset = 0;
  ssize_t count;
  while ((count = ::pread(fd, buffer, sizeof(buffer), offset)) > 0) {
    text.append(buffer, static_cast<std::size_t>(count));
    offset += count;
  }
  return parse_holder(text);
}

Status write_holder(int fd, const LockHolder& holder, const std::filesystem::path& file) {
  const std::string text = to_json(holder);
  const bool written = ::ftruncate(fd, 0) == 0 &&
                       ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  if (written) return ok_unit();
  return fail(
      make_error("state.lock_failed",
                 fmt::format("Recording the lock holder in {} failed: {}.", file.string(), std::strerror(errno)),
                 "Check that the state folder's file system is writable and not full, then run the "
                 "command again."));
}

Error lock_file_error(const std::filesystem::path& file, std::string_view step) {
  return make_error("state.lock_failed",
                    fmt::format("{} the lock file {} failed: {}.", step, file.string(), std::strerror(errno)),
                    "Make the state folder writable for this user, or pass --state-dir with a writable folder.");
}

Error locked_error(std::string_view deployment_id, const std::optional<LockHolder>& holder,
                   const std::filesystem::path& file) {
  if (!holder) {
    return make_error(
        "state.locked",
        fmt::format("Deployment {} is locked by another process that has not recorded itself yet.", deployment_id),
        fmt::format("Run the command again in a moment; `fuser -v {}` shows the holder.", file.string()));
  }
  if (holder_is_local(*holder) && !holder_is_alive(*holder)) {
    // The recorded holder is gone but the flock is held: a child process
    // inherited the descriptor.
    return make_error(
        "state.locked",
        fmt::format("Deployment {} is locked by a process that inherited the lock of {}, which has "
                    "exited.",
                    deployment_id, holder->describe()),
        fmt::format("Find and stop that process with `fuser -v {}`, then run the command again.", file.string()));
  }
  return make_error("state.locked", fmt::format("Deployment {} is locked by {}.", deployment_id, holder->describe()),
                    fmt::format("Wait for that command to finish, or stop it (kill {}), then run this one again. A "
                                "lock left by a process that died is taken over automatically.",
                                holder->pid));
}

// Decides whether a recorded holder that holds no flock may be replaced.
Status judge_unlocked_record(std::string_view deployment_id, const LockHolder& previous, const LockOptions& options) {
  if (!holder_is_local(previous)) {
    if (options.force) return ok_unit();
    return fail(make_error("state.lock_unverifiable",
                           fmt::format("Deployment {} is recorded as locked by {} on another host, so this host "
                                       "cannot check whether it still runs.",
                                       deployment_id, previous.describe()),
                           "Make sure no hivemind command runs on that host for this deployment, then run again "
                           "with --force-unlock."));
  }
  if (holder_is_alive(previous) && previous.pid != ::getpid()) {
    return fail(make_error("state.locked",
                           fmt::format("Deployment {} is recorded as locked by {}, which is still running although "
                                       "its lock file was replaced.",
                                       deployment_id, previous.describe()),
                           fmt::format("Wait for that command to finish or stop it (kill {}), then run this one "
                                       "again.",
                                       previous.pid)));
  }
  return ok_unit();
}

}  // namespace

std::string LockHolder::describe() const {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(since);
  return fmt::format("pid {} on host {} running `{}` since {:%Y-%m-%dT%H:%M:%S}Z", pid, host, command, seconds);
}

LockHolder current_process_holder(std::string command) {
  LockHolder holder;
  holder.pid = ::getpid();
  holder.host = host_name();
  holder.command = std::move(command);
  holder.since = std::chrono::system_clock::now();
  holder.start_ticks = process_start_ticks(holder.pid);
  holder.boot_id = boot_id();
  return holder;
}

bool holder_is_local(const LockHolder& holder) { return holder.host == host_name(); }

bool holder_is_alive(const LockHolder& holder) {
  // After a reboot (another boot id) no process of the old boot runs.
  if (!holder_is_local(holder) || holder.boot_id != boot_id() || holder.pid <= 0) return false;
  const std::uint64_t ticks = process_start_ticks(holder.pid);
  return ticks != 0 && ticks == holder.start_ticks;
}

Result<DeploymentLock> DeploymentLock::acquire(const std::filesystem::path& state_dir, std::string_view deployment_id,
                                               const LockOptions& options) {
  auto paths = ensure_deployment_dirs(state_dir, deployment_id);
  if (!paths.ok()) return fail(paths.error());
  const std::filesystem::path& file = paths->lock_file;

  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(lock_file_error(file, "Opening"));

  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int saved_errno = errno;
    std::optional<LockHolder> holder = read_holder(fd);
    ::close(fd);
    if (saved_errno == EWOULDBLOCK) return fail(locked_error(deployment_id, holder, file));
    errno = saved_errno;
    return fail(lock_file_error(file, "Locking"));
  }

  std::optional<LockHolder> previous = read_holder(fd);
  if (previous) {
    if (auto judged = judge_unlocked_record(deployment_id, *previous, options); !judged.ok()) {
      ::close(fd);
      return fail(judged.error());
    }
    log::get("state")->warn("taking over the lock of deployment {} left by {}, which no longer runs", deployment_id,
                            previous->describe());
  }

  LockHolder self = current_process_holder(options.command);
  if (auto written = write_holder(fd, self, file); !written.ok()) {
    ::close(fd);
    return fail(written.error());
  }
  return DeploymentLock(fd, std::move(self), std::move(previous));
}

DeploymentLock::DeploymentLock(int fd, LockHolder holder, std::optional<LockHolder> taken_over_from)
    : fd_(fd), holder_(std::move(holder)), taken_over_from_(std::move(taken_over_from)) {}

DeploymentLock::DeploymentLock(DeploymentLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      holder_(std::move(other.holder_)),
      taken_over_from_(std::move(other.taken_over_from_)) {}

DeploymentLock& DeploymentLock::operator=(DeploymentLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    holder_ = std::move(other.holder_);
    taken_over_from_ = std::move(other.taken_over_from_);
  }
  return *this;
}

DeploymentLock::~DeploymentLock() { release(); }

void DeploymentLock::release() {
  if (fd_ < 0) return;
  // An empty file means "free"; the flock itself goes with close().
  if (::ftruncate(fd_, 0) != 0) {
    log::get("state")->warn("clearing the lock holder record failed: {}", std::strerror(errno));
  }
  ::close(fd_);
  fd_ = -1;
}

Result<std::optional<LockHolder>> read_lock_holder(const std::filesystem::path& state_dir,
                                                   std::string_view deployment_id) {
  if (!is_valid_deployment_id(deployment_id)) return std::optional<LockHolder>();
  const std::filesystem::path file = deployment_paths(state_dir, deployment_id).lock_file;

  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<LockHolder>();
    return fail(lock_file_error(file, "Opening"));
  }
  std::optional<LockHolder> holder = read_holder(fd);
  ::close(fd);

  // A record of a local process that has exited is a leftover, not a holder.
  if (holder && holder_is_local(*holder) && !holder_is_alive(*holder)) return std::optional<LockHolder>();
  return holder;
}

}  // namespace hivemind::state
