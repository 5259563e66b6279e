#pragma once

// Chris Compiler: builds an application into a versioned artifact. The
// source is copied into <state_dir>/builds/<source hash>/work without version
// control, dependency or build-output folders, the install and build
// commands run there with a sanitized environment, and the result is
// written to <state_dir>/artifacts/<app>-<version>.tar.gz. The same source
// hash reuses the artifact that an earlier build wrote.
// Thread safety: two builds of the same source at once are not supported.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "build/artifact.h"
#include "build/plan.h"
#include "build/workspace.h"
#include "common/result.h"
#include "repo/analysis.h"
#include "repo/source.h"

namespace hivemind::build {

// Progress for the user interface; the log has the details.
struct BuildEvent {
  enum class Kind { kCopied, kCacheHit, kStepStarted, kStepFinished, kArtifactWritten };
  Kind kind = Kind::kCopied;
  std::string message;
};

struct BuildRequest {
  repo::SourceTree source;
  repo::Analysis analysis;  // of source.root / analysis.app_dir
  std::filesystem::path state_dir;
  std::string app_name;  // empty: derived from the source's name and app_dir
  std::chrono::seconds step_timeout{std::chrono::minutes(30)};
  std::string search_path;                         // PATH for the commands; empty: this process's PATH
  std::map<std::string, std::string> environment;  // added to the sanitized environment
  std::function<void(const BuildEvent&)> on_event;
};

struct StepRecord {
  std::string command;
  int exit_code = 0;
  std::chrono::milliseconds duration{0};
};

struct BuildResult {
  std::filesystem::path artifact;
  Manifest manifest;
  bool cache_hit = false;
  std::filesystem::path log_file;
  std::filesystem::path work_dir;
  std::vector<StepRecord> steps;  // empty on a cache hit
  TreeReport tree;                // what the copy skipped or flagged
};

// Builds the application, or reuses the cached artifact of the same source.
// Errors: a missing tool (which one and how to install it), a failed command
// (its last 20 lines and the command that reproduces it), a timeout, an
// unsafe symlink in the source, a write failure in the state folder.
Result<BuildResult> build_app(const BuildRequest& request);

// Returns a name made of lowercase letters, digits and '-', from the source
// location and the application folder ("git@host:team/shop.git" -> "shop").
std::string default_app_name(const std::string& location, const std::string& app_dir);

}  // namespace hivemind::build
