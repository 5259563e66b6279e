#pragma once

// Shared pieces of the repository analysis: the inventory of an application's
// files and the detectors that fill an Analysis from it. Not part of the
// module's interface; only src/repo/analysis*.cc and detect_*.cc include it.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/analysis.h"

namespace hivemind::repo::detail {

// The files of one folder tree, minus the dependency, build and VCS folders
// that analysis never walks. Paths are relative and '/'-separated, sorted.
// Not thread-safe: read() fills a cache.
class RepoFiles {
 public:
  // Lists the files under `root`. Symbolic links to folders are not followed,
  // so a link loop cannot hang the walk, and the walk stops `kMaxDepth` deep.
  static RepoFiles scan(const std::filesystem::path& root, size_t max_file_bytes);

  static constexpr int kMaxDepth = 16;

  const std::filesystem::path& root() const { return root_; }
  const std::vector<std::string>& paths() const { return paths_; }
  bool has(std::string_view path) const;

  // Returns the first max_file_bytes of the file, or nullptr when it is
  // missing, unreadable or binary (it has a NUL byte in what was read).
  const std::string* read(std::string_view path) const;

  // Returns the first of `candidates` that exists, or an empty string.
  std::string first_existing(std::initializer_list<std::string_view> candidates) const;

 private:
  std::filesystem::path root_;
  size_t max_file_bytes_ = 0;
  std::vector<std::string> paths_;
  mutable std::map<std::string, std::optional<std::string>, std::less<>> cache_;
};

// Whether a folder with this name is skipped by every walk.
bool is_skipped_folder(std::string_view name);

// Returns the 1-based line of `offset` in `text`.
int line_at(std::string_view text, size_t offset);
// Returns the 1-based line of the first occurrence of `needle` at or after
// `from`, or 0 when it does not occur.
int line_of(std::string_view text, std::string_view needle, size_t from = 0);
// Returns the trimmed text of line `line` (1-based), cut to 120 characters.
std::string line_text(std::string_view text, int line);

Evidence evidence_at(std::string file, std::string_view text, size_t offset);
Evidence evidence_of(std::string file, std::string_view text, std::string_view needle);
Evidence whole_file(std::string file, std::string detail = {});

// Source files whose code is searched for ports, variables and routes.
bool is_code_file(std::string_view path);
std::string_view file_name(std::string_view path);
std::string_view extension(std::string_view path);

// Parsed package.json, composer.json or deno.json: dependency names and
// scripts, with the raw text kept for line numbers.
struct JsonManifest {
  std::string path;
  std::string text;
  std::map<std::string, std::string> dependencies;  // name -> version, runtime and dev together
  std::map<std::string, std::string> scripts;       // package.json scripts, deno.json tasks
  std::string engines_node;                         // package.json engines.node
  std::string package_manager;                      // package.json packageManager
  std::string main;                                 // package.json main
  std::string php_version;                          // composer.json require.php
};
std::optional<JsonManifest> read_json_manifest(const RepoFiles& files, const std::string& path);

// The dependency names of every manifest of the application's language, with
// the file and line that lists each. Used for frameworks and services.
struct Dependency {
  std::string name;  // lowercased
  Evidence evidence;
};
std::vector<Dependency> collect_dependencies(const RepoFiles& files, const std::string& language);

// The parts of a Dockerfile that analysis uses; instructions of its final stage.
struct DockerfileInfo {
  std::string path;
  std::vector<std::pair<std::string, Evidence>> base_images;  // every FROM, in order
  std::vector<Finding<int>> exposed_ports;                    // EXPOSE of the final stage
  std::optional<Finding<std::string>> command;                // ENTRYPOINT and CMD of the final stage
};
std::optional<DockerfileInfo> read_dockerfile(const RepoFiles& files);

// Returns whether a package.json script runs fastify-cli's `fastify start`.
bool runs_fastify_start(const std::string& script);

// Detectors, run in this order by analyze(). Each fills its part of the
// analysis and may read what earlier ones found.
std::optional<AppLocation> detect_language(const RepoFiles& files);
// Decides the language from a sorted list of relative paths.
std::optional<AppLocation> detect_language_from_paths(const std::vector<std::string>& sorted_paths);
void detect_runtime_version(const RepoFiles& files, Analysis& analysis);
void detect_package_manager(const RepoFiles& files, Analysis& analysis);
void detect_framework(const RepoFiles& files, const std::vector<Dependency>& dependencies, Analysis& analysis);
void detect_commands(const RepoFiles& files, Analysis& analysis);
void detect_ports(const RepoFiles& files, Analysis& analysis);
// Fills the start command from the framework's convention when no file names
// one; runs after detect_ports() because the command binds the port.
void detect_conventional_start(const RepoFiles& files, Analysis& analysis);
void detect_services(const RepoFiles& files, const std::vector<Dependency>& dependencies, Analysis& analysis);
void detect_env_vars(const RepoFiles& files, Analysis& analysis);
void detect_health_check(const RepoFiles& files, Analysis& analysis);
void detect_hints(const RepoFiles& files, Analysis& analysis);
void decide_web_service(Analysis& analysis);

// Settings read from hivemind.toml; every field is unset unless the file sets it.
struct ConfigOverrides {
  std::optional<std::string> dir;
  std::optional<Finding<std::string>> language, runtime_version, framework, package_manager;
  std::optional<Finding<std::string>> install_command, build_command, start_command;
  std::optional<Finding<std::string>> health_check_path;
  std::vector<Finding<int>> ports;
  std::optional<Finding<bool>> web_service;
  std::vector<std::pair<ServiceKind, Evidence>> services;
  bool services_set = false;
  std::vector<EnvVar> env_vars;
};

// Reads `path` (hivemind.toml). A missing file gives empty overrides.
Result<ConfigOverrides> read_config(const std::filesystem::path& path);
void apply_config(const ConfigOverrides& config, Analysis& analysis);

// Lists the applications in first- and second-level subfolders of `root`.
std::vector<AppLocation> find_apps(const std::filesystem::path& root);

}  // namespace hivemind::repo::detail
