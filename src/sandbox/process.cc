#include "sandbox/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace hivemind::sandbox {
namespace {

std::vector<char*> to_exec_argv(const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& argument : argv) pointers.push_back(const_cast<char*>(argument.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& argument : argv) {
    if (!joined.empty()) joined += ' ';
    joined += argument;
  }
  return joined;
}

// Writes all of `data` to `fd`, ignoring a reader that went away early.
void write_all(int fd, const std::string& data) {
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t count = ::write(fd, data.data() + written, data.size() - written);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return;
    written += static_cast<std::size_t>(count);
  }
}

std::string read_all(int fd) {
  std::string data;
  char buffer[4096];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    data.append(buffer, static_cast<std::size_t>(count));
  }
  return data;
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  const std::vector<std::string>& extra_environment) {
  int input_pipe[2];
  int output_pipe[2];
  if (::pipe2(input_pipe, O_CLOEXEC) != 0) {
    return fail(make_error("sandbox.pipe_failed", fmt::format("Creating a pipe failed: {}.", std::strerror(errno))));
  }
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) {
    ::close(input_pipe[0]);
    ::close(input_pipe[1]);
    return fail(make_error("sandbox.pipe_failed", fmt::format("Creating a pipe failed: {}.", std::strerror(errno))));
  }

  // Built before fork(), because the child of a threaded process may not
  // allocate.
  std::vector<char*> exec_argv = to_exec_argv(argv);
  std::vector<std::string> environment = extra_environment;
  for (char** variable = environ; *variable != nullptr; ++variable) environment.emplace_back(*variable);
  std::vector<char*> exec_environment = to_exec_argv(environment);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(input_pipe[0], STDIN_FILENO);
    ::dup2(output_pipe[1], STDOUT_FILENO);
    ::dup2(output_pipe[1], STDERR_FILENO);
    ::execvpe(exec_argv[0], exec_argv.data(), exec_environment.data());
    ::_exit(127);
  }
  ::close(input_pipe[0]);
  ::close(output_pipe[1]);
  if (pid < 0) {
    ::close(input_pipe[1]);
    ::close(output_pipe[0]);
    return fail(make_error("sandbox.fork_failed",
                           fmt::format("Starting '{}' failed: {}.", join_argv(argv), std::strerror(errno))));
  }

  // The input is small (a script or a password), so writing it before
  // reading cannot fill both pipes at once.
  write_all(input_pipe[1], input);
  ::close(input_pipe[1]);
  CommandOutput result;
  result.output = read_all(output_pipe[0]);
  ::close(output_pipe[0]);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (result.exit_code == 127 && result.output.empty()) {
    return fail(make_error("sandbox.program_missing", fmt::format("Program '{}' could not be run.", argv.front()),
                           "Install it with scripts/setup."));
  }
  return result;
}

Status run_checked(const std::vector<std::string>& argv, const std::string& input,
                   const std::vector<std::string>& extra_environment) {
  auto result = run_command(argv, input, extra_environment);
  if (!result) return fail(std::move(result).error());
  if (result->exit_code != 0) {
    return fail(make_error("sandbox.command_failed", fmt::format("Command '{}' exited with {}: {}", join_argv(argv),
                                                                 result->exit_code, result->output)));
  }
  return ok_unit();
}

Result<pid_t> spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  std::vector<char*> exec_argv = to_exec_argv(argv);
  std::string log_path = log_file.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDONLY);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    ::execvp(exec_argv[0], exec_argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    return fail(make_error("sandbox.fork_failed",
                           fmt::format("Starting '{}' failed: {}.", join_argv(argv), std::strerror(errno))));
  }
  return pid;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  // Reaps the process if it is our own child that has exited.
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;
  if (::kill(pid, 0) != 0) return false;

  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string line;
  std::getline(stat_file, line);
  std::size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return true;
  return line[close_paren + 2] != 'Z';
}

void stop_process_group(pid_t pgid, int grace_ms) {
  if (pgid <= 1) return;
  ::kill(-pgid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (process_alive(pgid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pgid, SIGKILL);
  process_alive(pgid);  // reaps our own child
}

pid_t read_pid_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return 0;
  return static_cast<pid_t>(pid);
}

Status write_pid_file(const std::filesystem::path& file, pid_t pid) {
  return write_file_atomically(file, std::to_string(pid) + "\n");
}

Status write_file_atomically(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::path temporary = file;
  temporary += fmt::format(".tmp.{}", ::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      return fail(make_error("sandbox.write_failed", fmt::format("Writing '{}' failed.", temporary.string()),
                             "Check that the folder exists and has free space."));
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, file, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return fail(make_error("sandbox.write_failed", fmt::format("Renaming '{}' to '{}' failed: {}.", temporary.string(),
                                                               file.string(), error.message())));
  }
  return ok_unit();
}

}  // namespace hivemind::sandbox
