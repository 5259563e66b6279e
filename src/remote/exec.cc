// Session::exec and Session::run: one SSH channel per command.

#include <libssh/libssh.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

#include "common/log.h"
#include "remote/session.h"

namespace hivemind::remote {
namespace {

using Clock = std::chrono::steady_clock;

// How long one wait for output blocks before the deadline is checked again.
constexpr int kPollMilliseconds = 50;
// Lines of stderr shown in the error of a failed command.
constexpr std::size_t kErrorTailLines = 20;
// Prefix of the first stderr line of every command: the remote shell's pid,
// which is also its process group id, because sshd starts each session's
// command with setsid(). A timed-out command's group is killed through it,
// since sshd ignores SSH signal requests in sessions of root.
constexpr std::string_view kPidMarker = "hivemind-remote-pid:";
// Bound on the extra command that kills a timed-out one.
constexpr auto kKillTimeout = std::chrono::seconds(10);

struct ChannelDeleter {
  void operator()(ssh_channel channel) const {
    if (ssh_channel_is_open(channel)) ssh_channel_close(channel);
    ssh_channel_free(channel);
  }
};
using ChannelHandle = std::unique_ptr<ssh_channel_struct, ChannelDeleter>;

// Keeps the last `capacity` bytes appended to it.
class TailBuffer {
 public:
  explicit TailBuffer(std::size_t capacity) : capacity_(capacity) {}

  void append(const char* data, std::size_t size) {
    text_.append(data, size);
    // Trimming only past twice the capacity keeps appends amortised O(1).
    if (text_.size() > 2 * capacity_) trim();
  }

  std::string take(bool& truncated) {
    trim();
    truncated = truncated || dropped_;
    return std::move(text_);
  }

 private:
  void trim() {
    if (text_.size() <= capacity_) return;
    text_.erase(0, text_.size() - capacity_);
    dropped_ = true;
  }

  std::size_t capacity_;
  std::string text_;
  bool dropped_ = false;
};

// Takes the pid line out of stderr and passes everything else on. Lines
// that come before it (sshd's own messages, a login script's output) are
// kept, and the search stops after kMaxLinesBeforePid lines.
class StderrReader {
 public:
  explicit StderrReader(std::size_t capacity) : buffer_(capacity) {}

  void append(const char* data, std::size_t size) {
    std::string_view text(data, size);
    while (searching_ && !text.empty()) {
      std::size_t newline = text.find('\n');
      pending_.append(text.substr(0, newline));
      if (newline == std::string_view::npos) return;
      text.remove_prefix(newline + 1);
      take_pending_line();
    }
    buffer_.append(text.data(), text.size());
  }

  // The remote process group id, or 0 when the pid line never came.
  long process_group() const { return process_group_; }

  std::string take(bool& truncated) {
    if (!pending_.empty()) buffer_.append(pending_.data(), pending_.size());
    pending_.clear();
    return buffer_.take(truncated);
  }

 private:
  static constexpr int kMaxLinesBeforePid = 20;

  void take_pending_line() {
    if (pending_.starts_with(kPidMarker)) {
      process_group_ = std::strtol(pending_.c_str() + kPidMarker.size(), nullptr, 10);
      searching_ = false;
    } else {
      pending_ += '\n';
      buffer_.append(pending_.data(), pending_.size());
      searching_ = ++lines_seen_ < kMaxLinesBeforePid;
    }
    pending_.clear();
  }

  TailBuffer buffer_;
  std::string pending_;
  bool searching_ = true;
  int lines_seen_ = 0;
  long process_group_ = 0;
};

std::string wrap_command(std::string_view command) {
  return "echo \"" + std::string(kPidMarker) + "$$\" >&2; " + std::string(command);
}

std::string last_lines(const std::string& text, std::size_t count) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  std::size_t start = end;
  for (std::size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == count) break;
  }
  return text.substr(start, end - start);
}

Error channel_error(const std::string& target, std::string_view command, ssh_session session) {
  return make_error("remote.exec_failed",
                    "Could not run `" + std::string(command) + "` on " + target + ": " + ssh_get_error(session) + ".",
                    "Check that the host is still reachable and that sshd allows sessions for this user.");
}

Status write_stdin(ssh_channel channel, const std::string& data) {
  std::size_t written = 0;
  while (written < data.size()) {
    int n = ssh_channel_write(channel, data.data() + written, static_cast<uint32_t>(data.size() - written));
    if (n < 0) return fail(make_error("remote.exec_failed", "Could not write the command's standard input."));
    written += static_cast<std::size_t>(n);
  }
  ssh_channel_send_eof(channel);
  return ok_unit();
}

// Moves whatever the channel has buffered on one stream into `buffer`.
// Returns false on a channel error.
template <typename Buffer>
bool drain(ssh_channel channel, bool is_stderr, Buffer& buffer) {
  std::array<char, 16384> chunk;
  while (true) {
    int n = ssh_channel_read_nonblocking(channel, chunk.data(), chunk.size(), is_stderr ? 1 : 0);
    if (n == SSH_ERROR) return false;
    if (n <= 0) return true;
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

enum class ReadOutcome { kEof, kTimedOut, kChannelError };

ReadOutcome read_until_eof(ssh_channel channel, Clock::time_point deadline, TailBuffer& out, StderrReader& err) {
  while (true) {
    if (!drain(channel, false, out) || !drain(channel, true, err)) return ReadOutcome::kChannelError;
    if (ssh_channel_is_eof(channel)) return ReadOutcome::kEof;
    if (Clock::now() >= deadline) return ReadOutcome::kTimedOut;
    // Waits for stdout data; stderr packets that arrive meanwhile are
    // buffered by libssh and drained on the next turn.
    if (ssh_channel_poll_timeout(channel, kPollMilliseconds, 0) == SSH_ERROR) return ReadOutcome::kChannelError;
  }
}

}  // namespace

Result<CommandResult> Session::exec(std::string_view command, const ExecOptions& options) {
  auto logger = log::get("deployer");
  Clock::time_point started = Clock::now();
  logger->info("exec on {}: {}", target_, command);

  ChannelHandle channel(ssh_channel_new(session_));
  if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK ||
      ssh_channel_request_exec(channel.get(), wrap_command(command).c_str()) != SSH_OK) {
    Error error = channel_error(target_, command, session_);
    logger->error("{}", error.message);
    return fail(std::move(error));
  }

  if (Status sent = write_stdin(channel.get(), options.stdin_data); !sent) return fail(sent.error());

  TailBuffer out(options.max_output_bytes);
  StderrReader err(options.max_output_bytes);
  ReadOutcome outcome = read_until_eof(channel.get(), started + options.timeout, out, err);

  if (outcome == ReadOutcome::kTimedOut) {
    channel.reset();
    kill_process_group(err.process_group());
    Error error = make_error("remote.exec_timeout",
                             "The command `" + std::string(command) + "` on " + target_ + " timed out after " +
                                 std::to_string(options.timeout.count()) + " ms and was sent SIGTERM.",
                             "Check on the host why it hangs, or raise the timeout if it is only slow.");
    logger->error("{}", error.message);
    return fail(std::move(error));
  }
  if (outcome == ReadOutcome::kChannelError) {
    Error error = channel_error(target_, command, session_);
    logger->error("{}", error.message);
    return fail(std::move(error));
  }

  CommandResult result;
  result.exit_status = ssh_channel_get_exit_status(channel.get());
  result.stdout_text = out.take(result.output_truncated);
  result.stderr_text = err.take(result.output_truncated);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  logger->info("exit status {} on {} after {} ms{}: {}", result.exit_status, target_, result.duration.count(),
               result.output_truncated ? " (output truncated)" : "", command);
  return result;
}

void Session::kill_process_group(long process_group) {
  if (process_group <= 1) {
    log::get("deployer")->warn("cannot stop a timed-out command on {}: its process group id is unknown", target_);
    return;
  }
  ExecOptions options;
  options.timeout = kKillTimeout;
  auto killed = exec("kill -TERM -- -" + std::to_string(process_group), options);
  if (!killed || killed->exit_status != 0) {
    log::get("deployer")->warn("could not stop process group {} on {}", process_group, target_);
  }
}

Result<CommandResult> Session::run(std::string_view command, const ExecOptions& options) {
  auto result = exec(command, options);
  if (!result || result->exit_status == 0) return result;

  std::string tail = last_lines(result->stderr_text, kErrorTailLines);
  std::string message = "The command `" + std::string(command) + "` on " + target_ + " failed with exit status " +
                        std::to_string(result->exit_status) + ".";
  message += tail.empty() ? " It wrote nothing to stderr." : " The end of its stderr:\n" + tail;
  return fail(make_error("remote.command_failed", std::move(message),
                         "Fix the cause shown above on the host or in the application, then run the step again."));
}

}  // namespace hivemind::remote
