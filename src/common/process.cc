#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/log.h"
#include "common/strings.h"

namespace hivemind {
namespace {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor and closes it once.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::vector<char*> to_c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Everything the child needs is prepared before fork(), because only
// async-signal-safe calls are allowed between fork() and exec().
struct ChildSetup {
  std::string program;
  std::vector<std::string> argv;
  std::vector<std::string> environment;
  std::string working_dir;
};

[[noreturn]] void exec_child(ChildSetup& setup, int input_fd, int output_fd) {
  setpgid(0, 0);
  dup2(input_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  if (!setup.working_dir.empty() && chdir(setup.working_dir.c_str()) != 0) _exit(126);

  std::vector<char*> argv = to_c_strings(setup.argv);
  std::vector<char*> environment = to_c_strings(setup.environment);
  execve(setup.program.c_str(), argv.data(), environment.data());
  _exit(127);
}

// Appends output to the in-memory tail and to the log file.
class OutputSink {
 public:
  OutputSink(const std::filesystem::path& log_file, size_t max_bytes) : max_bytes_(max_bytes) {
    if (!log_file.empty()) log_.open(log_file, std::ios::app | std::ios::binary);
  }
  void append(const char* data, size_t size) {
    tail_.append(data, size);
    if (tail_.size() > max_bytes_) tail_.erase(0, tail_.size() - max_bytes_);
    if (log_.is_open()) log_.write(data, static_cast<std::streamsize>(size)).flush();
  }
  std::string take() { return std::move(tail_); }

 private:
  size_t max_bytes_;
  std::string tail_;
  std::ofstream log_;
};

// Reads from `fd` until end of file, the child's exit, or the deadline.
// Returns true when the deadline passed first.
bool pump_output(int fd, pid_t pid, Clock::time_point deadline, OutputSink& sink, int& wait_status, bool& reaped) {
  char buffer[16 * 1024];
  while (true) {
    if (Clock::now() >= deadline) return true;
    pollfd entry{fd, POLLIN, 0};
    int ready = poll(&entry, 1, 100);
    if (ready > 0) {
      ssize_t count = read(fd, buffer, sizeof(buffer));
      if (count > 0) {
        sink.append(buffer, static_cast<size_t>(count));
        continue;
      }
      if (count == 0 || errno != EINTR) break;
    }
    if (ready < 0 && errno != EINTR) break;

    // A background grandchild can hold the pipe open after the child exits;
    // the child's exit, not the end of the pipe, ends the command.
    if (!reaped && waitpid(pid, &wait_status, WNOHANG) == pid) {
      reaped = true;
      while (poll(&entry, 1, 0) > 0) {
        ssize_t count = read(fd, buffer, sizeof(buffer));
        if (count <= 0) break;
        sink.append(buffer, static_cast<size_t>(count));
      }
      break;
    }
  }
  return false;
}

Result<ChildSetup> prepare_child(const std::vector<std::string>& argv, const ProcessOptions& options) {
  auto path_entry = options.environment.find("PATH");
  std::string search_path = path_entry == options.environment.end() ? "" : path_entry->second;
  std::optional<std::filesystem::path> program = find_program(argv.front(), search_path);
  if (!program) {
    return fail(make_error("process.program_not_found",
                           "Program '" + argv.front() + "' was not found on PATH (" + search_path + ").",
                           "Install it, or add the folder that contains it to PATH."));
  }
  if (!options.working_dir.empty() && !std::filesystem::is_directory(options.working_dir)) {
    return fail(
        make_error("process.no_working_dir", "Working folder " + options.working_dir.string() + " does not exist."));
  }

  ChildSetup setup{program->string(), argv, {}, options.working_dir.string()};
  for (const auto& [name, value] : options.environment) setup.environment.push_back(name + "=" + value);
  return setup;
}

}  // namespace

std::optional<std::filesystem::path> find_program(const std::string& program, const std::string& search_path) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), X_OK) == 0) return std::filesystem::path(program);
    return std::nullopt;
  }
  for (const std::string& folder : split(search_path, ':')) {
    if (folder.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(folder) / program;
    struct stat info {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  assert(!argv.empty());
  Result<ChildSetup> setup = prepare_child(argv, options);
  if (!setup) return fail(setup.error());

  int output_pipe[2];
  int input_pipe[2];
  if (pipe2(output_pipe, O_CLOEXEC) != 0) {
    return fail(make_error("process.pipe", std::string("pipe() failed: ") + std::strerror(errno)));
  }
  Fd output_read(output_pipe[0]), output_write(output_pipe[1]);
  if (pipe2(input_pipe, O_CLOEXEC) != 0) {
    return fail(make_error("process.pipe", std::string("pipe() failed: ") + std::strerror(errno)));
  }
  Fd input_read(input_pipe[0]), input_write(input_pipe[1]);

  Clock::time_point started = Clock::now();
  pid_t pid = fork();
  if (pid < 0) return fail(make_error("process.fork", std::string("fork() failed: ") + std::strerror(errno)));
  if (pid == 0) exec_child(*setup, input_read.get(), output_write.get());

  // Set the group from this side too, so that a kill right after fork()
  // already reaches it.
  setpgid(pid, pid);
  output_write.reset();
  input_read.reset();
  hivemind::log::get("process")->debug("started pid {}: {}", pid, argv.front());

  // The input is small (a credential request, at most a few lines); larger
  // input would need to be interleaved with reading the output.
  // NOTE: this ignores SIGPIPE for the whole process, so that a child that
  // exits without reading its input cannot kill the caller.
  signal(SIGPIPE, SIG_IGN);
  if (!options.input.empty()) {
    ssize_t written = write(input_write.get(), options.input.data(), options.input.size());
    (void)written;
  }
  input_write.reset();

  OutputSink sink(options.log_file, options.max_captured_bytes);
  int wait_status = 0;
  bool reaped = false;
  ProcessResult result;
  result.timed_out = pump_output(output_read.get(), pid, started + options.timeout, sink, wait_status, reaped);

  // Kills what is left of the group: everything after a timeout, and any
  // background process the command left behind.
  kill(-pid, SIGKILL);
  if (!reaped) waitpid(pid, &wait_status, 0);

  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  result.output = sink.take();
  if (WIFEXITED(wait_status)) result.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result.signal = WTERMSIG(wait_status);
  hivemind::log::get("process")->debug("pid {} ended: exit code {}, signal {}, timed out {}, {} ms", pid,
                                       result.exit_code, result.signal, result.timed_out, result.duration.count());
  return result;
}

std::string last_lines(const std::string& text, size_t count) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  size_t lines = 0;
  while (start > 0 && lines < count) {
    --start;
    if (text[start] == '\n') {
      ++lines;
      if (lines == count) {
        ++start;
        break;
      }
    }
  }
  return text.substr(start, end - start);
}

}  // namespace hivemind
