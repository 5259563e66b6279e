#include "build/compiler.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <utility>

#include "common/digest.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kFailureLines = 20;

// Variables passed through from this process to build commands. Everything
// else (AWS credentials, tokens of other tools) stays out of the build.
constexpr const char* kPassedVariables[] = {"HOME",
                                            "USER",
                                            "LOGNAME",
                                            "LANG",
                                            "LC_ALL",
                                            "TZ",
                                            "TMPDIR",
                                            "HTTP_PROXY",
                                            "HTTPS_PROXY",
                                            "NO_PROXY",
                                            "http_proxy",
                                            "https_proxy",
                                            "no_proxy",
                                            "SSL_CERT_FILE",
                                            "NODE_EXTRA_CA_CERTS",
                                            "npm_config_registry",
                                            "npm_config_cache"};

// Output patterns of package managers that cannot reach their registry.
constexpr const char* kNetworkFailures[] = {"ENOTFOUND",
                                            "EAI_AGAIN",
                                            "ECONNREFUSED",
                                            "ETIMEDOUT",
                                            "Could not resolve",
                                            "NewConnectionError",
                                            "Temporary failure in name resolution",
                                            "Network is unreachable",
                                            "dial tcp",
                                            "Could not fetch URL",
                                            "getaddrinfo"};

void emit(const BuildRequest& request, BuildEvent::Kind kind, std::string message) {
  if (request.on_event) request.on_event(BuildEvent{kind, std::move(message)});
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

std::map<std::string, std::string> sanitized_environment(const BuildRequest& request) {
  std::map<std::string, std::string> environment;
  for (const char* name : kPassedVariables) {
    if (const char* value = std::getenv(name)) environment[name] = value;
  }
  const char* path = std::getenv("PATH");
  environment["PATH"] = !request.search_path.empty() ? request.search_path : (path != nullptr ? path : "/usr/bin:/bin");
  environment["CI"] = "true";
  for (const auto& [name, value] : request.environment) environment[name] = value;
  return environment;
}

// Returns the key of the build cache: the tree's content and everything
// else that changes what the build produces.
std::string source_hash(const std::string& tree_hash, const BuildRequest& request, const std::string& app,
                        const std::vector<BuildStep>& steps) {
  Sha256 hash;
  hash.update("hivemind-build-1\ntree " + tree_hash + "\napp " + app + "\napp_dir " + request.analysis.app_dir + "\n");
  for (const BuildStep& step : steps) hash.update("step " + step.command + "\n");
  return hash.finish_hex();
}

std::string version_of(const repo::SourceTree& source, const std::string& hash) {
  if (source.commit.empty()) return hash.substr(0, 12);
  std::string version = source.commit.substr(0, 8);
  // Two different sets of uncommitted changes must not share a file name.
  if (source.dirty) version += "-dirty-" + hash.substr(0, 8);
  return version;
}

Manifest manifest_of(const BuildRequest& request, const std::string& app, const std::string& version,
                     const std::string& hash) {
  const repo::Analysis& analysis = request.analysis;
  Manifest manifest;
  manifest.app = app;
  manifest.version = version;
  manifest.commit = request.source.commit;
  manifest.dirty = request.source.dirty;
  manifest.source_hash = hash;
  manifest.runtime = analysis.language.value;
  if (analysis.runtime_version) manifest.runtime_version = analysis.runtime_version->value;
  if (analysis.start_command) manifest.start_command = analysis.start_command->value;
  manifest.port = analysis.primary_port();
  for (const repo::EnvVar& variable : analysis.env_vars) manifest.env_var_names.push_back(variable.name);
  manifest.built_at = utc_now();
  return manifest;
}

Status check_tools(const std::vector<BuildStep>& steps, const fs::path& work_dir, const std::string& search_path) {
  for (const BuildStep& step : steps) {
    bool found = starts_with(step.tool, "./") ? access((work_dir / step.tool).c_str(), X_OK) == 0
                                              : find_program(step.tool, search_path).has_value();
    if (found) continue;
    return fail(make_error("build.tool_missing",
                           "Cannot " + step.purpose + " with `" + step.command + "` (chosen because of " + step.reason +
                               "): " + step.tool + " is not installed or not on PATH (" + search_path + ").",
                           install_hint(step.tool)));
  }
  return ok_unit();
}

bool mentions_network_failure(const std::string& output) {
  for (const char* pattern : kNetworkFailures) {
    if (output.find(pattern) != std::string::npos) return true;
  }
  return false;
}

Error step_failure(const BuildStep& step, const ProcessResult& result, const fs::path& work_dir,
                   const fs::path& log_file) {
  std::string outcome = result.timed_out     ? "timed out after " + seconds_text(result.duration)
                        : result.signal != 0 ? "was killed by signal " + std::to_string(result.signal)
                                             : "failed with exit code " + std::to_string(result.exit_code) + " after " +
                                                   seconds_text(result.duration);
  std::string message = "Build step `" + step.command + "` " + outcome + ". Last lines of its output:\n" +
                        last_lines(result.output, kFailureLines);
  std::string remediation =
      "Reproduce it with: cd " + work_dir.string() + " && " + step.command + "\nFull output: " + log_file.string();
  if (mentions_network_failure(result.output)) {
    remediation =
        "The package registry looks unreachable from this machine: check the network, the proxy "
        "variables or the registry setting. " +
        remediation;
  }
  return make_error(result.timed_out ? "build.step_timed_out" : "build.step_failed", message, remediation);
}

void append_to_log(const fs::path& log_file, const std::string& text) {
  std::ofstream log(log_file, std::ios::app);
  log << text;
}

Result<std::vector<StepRecord>> run_steps(const BuildRequest& request, const std::vector<BuildStep>& steps,
                                          const fs::path& work_dir, const fs::path& log_file) {
  ProcessOptions options;
  options.working_dir = work_dir;
  options.environment = sanitized_environment(request);
  options.timeout = request.step_timeout;
  options.log_file = log_file;

  std::vector<StepRecord> records;
  for (const BuildStep& step : steps) {
    emit(request, BuildEvent::Kind::kStepStarted, step.purpose + ": " + step.command);
    append_to_log(log_file, "$ cd " + work_dir.string() + " && " + step.command + "\n");
    log::get("build")->info("running `{}` in {} ({})", step.command, work_dir.string(), step.reason);

    Result<ProcessResult> result = run_process(step.argv, options);
    if (!result) return fail(result.error());
    append_to_log(log_file, "[exit code " + std::to_string(result->exit_code) + ", " + seconds_text(result->duration) +
                                (result->timed_out ? ", timed out" : "") + "]\n\n");
    records.push_back(StepRecord{step.command, result->exit_code, result->duration});
    log::get("build")->info("`{}` ended with exit code {} after {} ms", step.command, result->exit_code,
                            result->duration.count());
    if (!result->succeeded()) return fail(step_failure(step, *result, work_dir, log_file));

    emit(request, BuildEvent::Kind::kStepFinished, step.command + " (" + seconds_text(result->duration) + ")");
  }
  return records;
}

// Returns the cached artifact when it exists, is intact and was built from
// the same source hash.
std::optional<Manifest> cached_manifest(const fs::path& artifact, const std::string& hash) {
  std::error_code error;
  if (!fs::exists(artifact, error)) return std::nullopt;
  Result<Manifest> manifest = verify_artifact(artifact);
  if (!manifest) {
    log::get("build")->warn("ignoring cached artifact {}: {}", artifact.string(), manifest.error().message);
    return std::nullopt;
  }
  if (manifest->source_hash != hash) return std::nullopt;
  return *manifest;
}

// An exclusive flock on <state_dir>/builds/<key>.lock, held while one source
// hash is built. A second build of the same source, such as two deploys of
// one commit at once, waits for it and then reuses the artifact instead of
// deleting the work folder under the first. The kernel releases the flock
// when the process dies, so a killed build never blocks the next one.
class BuildLock {
 public:
  explicit BuildLock(int descriptor) : descriptor_(descriptor) {}
  ~BuildLock() {
    if (descriptor_ >= 0) ::close(descriptor_);
  }
  BuildLock(BuildLock&& other) noexcept : descriptor_(std::exchange(other.descriptor_, -1)) {}
  BuildLock(const BuildLock&) = delete;
  BuildLock& operator=(const BuildLock&) = delete;
  BuildLock& operator=(BuildLock&&) = delete;

 private:
  int descriptor_;
};

Result<BuildLock> lock_build(const fs::path& lock_file) {
  std::error_code error;
  fs::create_directories(lock_file.parent_path(), error);
  int descriptor = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (descriptor < 0) {
    return fail(make_error("build.write_failed",
                           "Cannot open the build lock " + lock_file.string() + ": " + std::strerror(errno) + ".",
                           "Check that the state folder is writable."));
  }
  BuildLock lock(descriptor);

  if (::flock(descriptor, LOCK_EX | LOCK_NB) == 0) return lock;
  log::get("build")->info("waiting for another build of the same source to finish ({})", lock_file.string());
  while (::flock(descriptor, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    return fail(make_error("build.lock_failed", "Cannot lock " + lock_file.string() + ": " + std::strerror(errno) + ".",
                           "Check that the state folder is on a local file system that supports flock."));
  }
  return lock;
}

Status prepare_work_dir(const fs::path& build_dir, const fs::path& work_dir, const fs::path& log_file) {
  std::error_code error;
  fs::remove_all(work_dir, error);
  fs::remove(log_file, error);
  fs::create_directories(build_dir, error);
  if (error) {
    return fail(make_error("build.write_failed", "Cannot create " + build_dir.string() + ": " + error.message() + ".",
                           "Check that the state folder is writable."));
  }
  return ok_unit();
}

}  // namespace

std::string default_app_name(const std::string& location, const std::string& app_dir) {
  std::string base = !app_dir.empty() ? app_dir : location;
  while (!base.empty() && (base.back() == '/' || base.back() == '\\')) base.pop_back();
  std::size_t cut = base.find_last_of("/:");
  if (cut != std::string::npos) base = base.substr(cut + 1);
  if (base.size() > 4 && base.ends_with(".git")) base.resize(base.size() - 4);

  std::string name;
  for (char c : base) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte)) {
      name.push_back(static_cast<char>(std::tolower(byte)));
    } else if (!name.empty() && name.back() != '-') {
      name.push_back('-');
    }
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name.empty() ? "app" : name;
}

Result<BuildResult> build_app(const BuildRequest& request) {
  if (request.analysis.needs_app_choice()) return fail(repo::app_choice_error(request.analysis));
  fs::path app_root = request.source.root / request.analysis.app_dir;
  std::string app = request.app_name.empty() ? default_app_name(request.source.location, request.analysis.app_dir)
                                             : default_app_name(request.app_name, "");

  // The cache key and the artifact's name.
  std::vector<BuildStep> steps = plan_build(request.analysis, app_root);
  Result<std::string> tree_hash = hash_tree(app_root, TreeOptions{});
  if (!tree_hash) return fail(tree_hash.error());
  std::string hash = source_hash(*tree_hash, request, app, steps);
  std::string version = version_of(request.source, hash);
  fs::path build_dir = request.state_dir / "builds" / hash.substr(0, 16);

  BuildResult result;
  result.artifact = request.state_dir / "artifacts" / (app + "-" + version + ".tar.gz");
  result.log_file = build_dir / "build.log";
  result.work_dir = build_dir / "work";
  Result<BuildLock> lock = lock_build(build_dir.string() + ".lock");
  if (!lock) return fail(lock.error());
  if (std::optional<Manifest> cached = cached_manifest(result.artifact, hash)) {
    result.manifest = *cached;
    result.cache_hit = true;
    emit(request, BuildEvent::Kind::kCacheHit,
         "same source as the build of " + cached->built_at + ": reusing " + result.artifact.string());
    log::get("build")->info("cache hit for {}: {}", hash, result.artifact.string());
    return result;
  }

  // A clean copy, then the commands.
  Status prepared = prepare_work_dir(build_dir, result.work_dir, result.log_file);
  if (!prepared) return fail(prepared.error());
  Result<TreeReport> tree = copy_tree(app_root, result.work_dir, TreeOptions{});
  if (!tree) return fail(tree.error());
  result.tree = *tree;
  emit(request, BuildEvent::Kind::kCopied,
       "copied " + std::to_string(tree->files) + " files to " + result.work_dir.string());

  std::map<std::string, std::string> environment = sanitized_environment(request);
  Status tools = check_tools(steps, result.work_dir, environment["PATH"]);
  if (!tools) return fail(tools.error());
  Result<std::vector<StepRecord>> records = run_steps(request, steps, result.work_dir, result.log_file);
  if (!records) return fail(records.error());
  result.steps = *records;

  // The artifact.
  Result<Manifest> manifest =
      write_artifact(result.work_dir, manifest_of(request, app, version, hash), result.artifact);
  if (!manifest) return fail(manifest.error());
  result.manifest = *manifest;
  emit(request, BuildEvent::Kind::kArtifactWritten, "wrote " + result.artifact.string());
  return result;
}

}  // namespace hivemind::build
