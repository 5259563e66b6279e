#include "repo/analysis.h"

#include <algorithm>
#include <system_error>

#include "common/log.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo {
namespace fs = std::filesystem;

namespace {

using detail::RepoFiles;

// Checks that `dir` is a relative path inside root that names a folder.
Result<fs::path> resolve_app_dir(const fs::path& root, const std::string& dir) {
  fs::path relative = fs::path(dir).lexically_normal();
  bool escapes = relative.is_absolute() || relative.empty() || *relative.begin() == "..";
  if (escapes) {
    return fail(make_error("analysis.invalid_app_dir",
                           "invalid app folder \"" + dir + "\": it must be a path inside " + root.string() + ".",
                           "Pass a relative path such as --app-dir apps/web."));
  }
  std::error_code error;
  if (!fs::is_directory(root / relative, error)) {
    return fail(make_error("analysis.app_dir_not_found",
                           "app folder \"" + dir + "\" not found in " + root.string() + ".",
                           "Run `hivemind analyze " + root.string() + "` to list the apps it contains."));
  }
  return relative;
}

void run_detectors(const RepoFiles& files, Analysis& analysis) {
  std::vector<detail::Dependency> dependencies = detail::collect_dependencies(files, analysis.language.value);
  detail::detect_runtime_version(files, analysis);
  detail::detect_package_manager(files, analysis);
  detail::detect_framework(files, dependencies, analysis);
  if (auto docker = detail::read_dockerfile(files)) {
    analysis.dockerfile = Finding<std::string>{docker->path, Origin::kDetected, detail::whole_file(docker->path)};
  }
  detail::detect_commands(files, analysis);
  detail::detect_ports(files, analysis);
  detail::decide_web_service(analysis);
  detail::detect_conventional_start(files, analysis);
  detail::detect_env_vars(files, analysis);
  detail::detect_services(files, dependencies, analysis);
  detail::detect_health_check(files, analysis);
  detail::detect_hints(files, analysis);
}

Status apply_config_file(const fs::path& path, Analysis& analysis) {
  Result<detail::ConfigOverrides> config = detail::read_config(path);
  if (!config) return fail(config.error());
  detail::apply_config(*config, analysis);
  return ok_unit();
}

Error no_app_error(const fs::path& root) {
  return make_error("analysis.no_app",
                    "no recognizable application in " + root.string() +
                        ": found no package.json, requirements.txt, pyproject.toml, go.mod, Gemfile, pom.xml, "
                        "build.gradle, composer.json, Cargo.toml, deno.json, index.html or Dockerfile.",
                    "Point hivemind at the application's folder, or pass --app-dir for an app in a subfolder.");
}

}  // namespace

Result<Analysis> analyze(const fs::path& root, const AnalyzeOptions& options) {
  auto logger = log::get("recon");
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    return fail(make_error("analysis.not_a_folder", root.string() + " is not a folder.",
                           "Pass the path of the application's repository."));
  }

  // The root's hivemind.toml may name the app folder, so it is read first.
  Result<detail::ConfigOverrides> root_config = detail::read_config(root / "hivemind.toml");
  if (!root_config) return fail(root_config.error());
  std::string app_dir = !options.app_dir.empty() ? options.app_dir : root_config->dir.value_or("");

  fs::path app_root = root;
  if (!app_dir.empty()) {
    Result<fs::path> resolved = resolve_app_dir(root, app_dir);
    if (!resolved) return fail(resolved.error());
    app_root = root / *resolved;
    app_dir = resolved->generic_string();
  }

  RepoFiles files = RepoFiles::scan(app_root, options.max_file_bytes);
  logger->debug("analyzing {}: {} files", app_root.string(), files.paths().size());
  if (files.paths().empty()) {
    return fail(make_error("analysis.empty_folder", app_root.string() + " contains no files to analyze.",
                           "Check the path; dependency and build folders such as node_modules are not read."));
  }

  Analysis analysis;
  analysis.root = root;
  analysis.app_dir = app_dir;
  std::optional<AppLocation> language = detail::detect_language(files);
  if (!language && app_dir.empty() && !root_config->language) {
    analysis.apps = detail::find_apps(root);
    if (analysis.apps.empty()) return fail(no_app_error(root));
    return analysis;
  }
  if (!language && !root_config->language) return fail(no_app_error(app_root));

  if (language) {
    analysis.language =
        Finding<std::string>{language->language, Origin::kDetected, detail::whole_file(language->manifest)};
  }
  detail::apply_config(*root_config, analysis);  // a configured language steers the detectors
  run_detectors(files, analysis);
  detail::apply_config(*root_config, analysis);
  if (!app_dir.empty()) {
    if (Status status = apply_config_file(app_root / "hivemind.toml", analysis); !status) return fail(status.error());
  }
  return analysis;
}

Error app_choice_error(const Analysis& analysis) {
  std::string listing;
  for (const AppLocation& app : analysis.apps)
    listing += (listing.empty() ? "" : ", ") + app.dir + " (" + app.language + ")";
  std::string example = analysis.apps.empty() ? "DIR" : analysis.apps.front().dir;
  return make_error("analysis.monorepo", analysis.root.string() + " contains several apps: " + listing + ".",
                    "Pick one with --app-dir " + example + ", or set dir under [app] in hivemind.toml.");
}

const char* origin_name(Origin origin) {
  switch (origin) {
    case Origin::kDetected:
      return "detected";
    case Origin::kConfig:
      return "hivemind.toml";
    case Origin::kDefault:
      return "default";
  }
  return "detected";
}

const char* service_name(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::kPostgresql:
      return "postgresql";
    case ServiceKind::kMysql:
      return "mysql";
    case ServiceKind::kRedis:
      return "redis";
    case ServiceKind::kMongodb:
      return "mongodb";
  }
  return "postgresql";
}

std::optional<ServiceKind> parse_service_name(const std::string& name) {
  for (ServiceKind kind : {ServiceKind::kPostgresql, ServiceKind::kMysql, ServiceKind::kRedis, ServiceKind::kMongodb}) {
    if (name == service_name(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace hivemind::repo
