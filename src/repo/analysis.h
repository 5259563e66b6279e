#pragma once

// Randy Recon: a deterministic analysis of an application's repository. Every
// finding names the file (and line, when there is one) that shows it and
// whether it was detected, set in hivemind.toml, or a default. The same files
// always give the same Analysis, in the same order.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::repo {

// Version of the JSON schema that analysis_to_json() writes; raised on any
// change that renames or removes a field.
inline constexpr int kAnalysisSchemaVersion = 1;

// Source of a finding's value.
enum class Origin {
  kDetected,  // read from the repository's own files
  kConfig,    // set in hivemind.toml
  kDefault,   // no file decides it, so a convention was assumed
};

// The file and line that show a finding.
struct Evidence {
  std::string file;    // relative to the analyzed folder, '/'-separated; empty for defaults
  int line = 0;        // 1-based; 0 when the whole file is the evidence
  std::string detail;  // what was seen there, e.g. `"engines": {"node": ">=20"}`
};

template <typename T>
struct Finding {
  T value{};
  Origin origin = Origin::kDetected;
  Evidence evidence;
};

enum class ServiceKind { kPostgresql, kMysql, kRedis, kMongodb };

struct BackingService {
  ServiceKind kind = ServiceKind::kPostgresql;
  Origin origin = Origin::kDetected;
  std::vector<Evidence> evidence;  // every file that shows it, in path order
};

// An environment variable that the application reads.
struct EnvVar {
  std::string name;
  bool required = false;      // read with no default anywhere and no value in an example file
  std::string default_value;  // from code or an example file; never a secret's value
  Origin origin = Origin::kDetected;
  std::vector<Evidence> evidence;
};

// A statement from a README or deployment document that may help deployment.
struct DeploymentHint {
  std::string kind;   // "port", "command" or "variable"
  std::string value;  // "8080", "npm run migrate", "STRIPE_KEY"
  Evidence evidence;
};

// One application of a monorepo.
struct AppLocation {
  std::string dir;       // relative to the repository root, '/'-separated
  std::string language;  // as in Analysis::language
  std::string manifest;  // the file that marks the folder as an application
};

struct Analysis {
  std::filesystem::path root;  // the repository folder that was analyzed
  std::string app_dir;         // the analyzed application's folder relative to root; empty: root itself

  // Applications found in subfolders when the root has none. When this is not
  // empty and app_dir is empty, nothing below was analyzed: the caller must
  // pick one with AnalyzeOptions::app_dir.
  std::vector<AppLocation> apps;

  Finding<std::string> language;                        // node, python, go, ruby, java, php, rust, deno, static
  std::optional<Finding<std::string>> runtime_version;  // as written, e.g. ">=20", "3.12", "1.22"
  std::optional<Finding<std::string>> framework;        // express, next, flask, django, gin, ...
  std::optional<Finding<std::string>> package_manager;  // npm, yarn, pnpm, bun, pip, poetry, ...
  std::optional<Finding<std::string>> lockfile;         // path of the lockfile
  std::optional<Finding<std::string>> dockerfile;       // path of the Dockerfile

  std::optional<Finding<std::string>> install_command;
  std::optional<Finding<std::string>> build_command;
  std::optional<Finding<std::string>> start_command;

  // Ports the application listens on, the one to route traffic to first; the
  // others follow in ascending order. Empty for a worker or command-line app.
  std::vector<Finding<int>> ports;
  Finding<bool> web_service;  // serves HTTP: a web framework or a web port

  std::vector<BackingService> services;  // in ServiceKind order
  std::vector<EnvVar> env_vars;          // by name
  Finding<std::string> health_check_path;
  std::vector<DeploymentHint> hints;  // by file, then line

  // Returns the first port, or 0 when there is none.
  int primary_port() const { return ports.empty() ? 0 : ports.front().value; }
  bool needs_app_choice() const { return !apps.empty() && app_dir.empty(); }
};

struct AnalyzeOptions {
  std::string app_dir;                 // relative to root; empty: root, or a list of apps for a monorepo
  size_t max_file_bytes = 256 * 1024;  // read at most this much of any one file
};

// Analyzes the application in `root` (or in `root / options.app_dir`).
// Errors: root is not a folder, is empty, contains no recognizable application,
// app_dir is missing or leaves root, or hivemind.toml is invalid (the error
// names the key and line).
Result<Analysis> analyze(const std::filesystem::path& root, const AnalyzeOptions& options);

// Returns an error that lists the applications and how to pick one, for a
// caller that needs a single application. REQUIRES: analysis.needs_app_choice()
Error app_choice_error(const Analysis& analysis);

const char* origin_name(Origin origin);      // "detected", "hivemind.toml", "default"
const char* service_name(ServiceKind kind);  // "postgresql", "mysql", "redis", "mongodb"
std::optional<ServiceKind> parse_service_name(const std::string& name);

// Writes the analysis in the stable JSON schema described in docs/analysis.md.
std::string analysis_to_json(const Analysis& analysis);

}  // namespace hivemind::repo
