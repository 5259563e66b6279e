// Language, runtime version, package manager and framework.

#include <toml++/toml.h>

#include <algorithm>
#include <regex>

#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace {

struct LanguageMarker {
  const char* file;
  const char* language;
};

// The first marker that exists decides the language. Languages whose projects
// often carry a package.json for front-end assets (Ruby, Python, PHP, Java,
// Go) come before Node.js, so that a Rails or Django app is not taken for one.
constexpr LanguageMarker kLanguageMarkers[] = {
    {"deno.json", "deno"},    {"deno.jsonc", "deno"},          {"Gemfile", "ruby"},
    {"manage.py", "python"},  {"pyproject.toml", "python"},    {"requirements.txt", "python"},
    {"Pipfile", "python"},    {"setup.py", "python"},          {"composer.json", "php"},
    {"go.mod", "go"},         {"Cargo.toml", "rust"},          {"pom.xml", "java"},
    {"build.gradle", "java"}, {"build.gradle.kts", "java"},    {"package.json", "node"},
    {"index.html", "static"}, {"public/index.html", "static"}, {"Dockerfile", "container"},
};

void set_version(Analysis& analysis, std::string value, Evidence evidence) {
  value = trim(value);
  if (value.empty() || analysis.runtime_version) return;
  analysis.runtime_version = Finding<std::string>{std::move(value), Origin::kDetected, std::move(evidence)};
}

// Reads a one-line version file such as .nvmrc or .python-version.
void version_file(const RepoFiles& files, const char* path, Analysis& analysis) {
  const std::string* text = files.read(path);
  if (!text) return;
  std::string first_line = trim(std::string_view(*text).substr(0, text->find('\n')));
  set_version(analysis, first_line, Evidence{path, 1, first_line});
}

// Applies `pattern` to `path` and takes the first capture group as the version.
void version_pattern(const RepoFiles& files, const std::string& path, const std::regex& pattern, Analysis& analysis) {
  const std::string* text = files.read(path);
  if (!text) return;
  std::smatch match;
  if (!std::regex_search(*text, match, pattern)) return;
  set_version(analysis, match.str(1), evidence_at(path, *text, static_cast<size_t>(match.position(1))));
}

// Takes the version tag of a Dockerfile's official base image ("node:20-alpine" -> "20").
void version_from_docker_image(const RepoFiles& files, const char* image, Analysis& analysis) {
  std::optional<DockerfileInfo> docker = read_dockerfile(files);
  if (!docker) return;
  for (const auto& [base, evidence] : docker->base_images) {
    std::string prefix = std::string(image) + ":";
    if (!starts_with(base, prefix)) continue;
    std::string tag = base.substr(prefix.size());
    std::string version = tag.substr(0, tag.find('-'));
    if (!version.empty() && std::isdigit(static_cast<unsigned char>(version[0])))
      set_version(analysis, version, evidence);
  }
}

void node_version(const RepoFiles& files, Analysis& analysis) {
  version_file(files, ".nvmrc", analysis);
  version_file(files, ".node-version", analysis);
  if (auto manifest = read_json_manifest(files, "package.json"); manifest && !manifest->engines_node.empty()) {
    set_version(analysis, manifest->engines_node, evidence_of("package.json", manifest->text, "\"node\""));
  }
  version_from_docker_image(files, "node", analysis);
}

void python_version(const RepoFiles& files, Analysis& analysis) {
  static const std::regex kRuntimeTxt(R"(python-([0-9][0-9.]*))");
  static const std::regex kRequiresPython(R"(requires-python\s*=\s*["']([^"']+)["'])");
  static const std::regex kPoetryPython(R"((?:^|\n)\s*python\s*=\s*["']([^"']+)["'])");
  static const std::regex kPipfilePython(R"(python_(?:full_)?version\s*=\s*["']([^"']+)["'])");
  version_file(files, ".python-version", analysis);
  version_pattern(files, "runtime.txt", kRuntimeTxt, analysis);
  version_pattern(files, "pyproject.toml", kRequiresPython, analysis);
  version_pattern(files, "pyproject.toml", kPoetryPython, analysis);
  version_pattern(files, "Pipfile", kPipfilePython, analysis);
  version_from_docker_image(files, "python", analysis);
}

void other_version(const RepoFiles& files, const std::string& language, Analysis& analysis) {
  static const std::regex kGoDirective(R"((?:^|\n)go\s+([0-9][0-9.]*))");
  static const std::regex kGemfileRuby(R"((?:^|\n)\s*ruby\s+['"]([^'"]+)['"])");
  static const std::regex kMavenJava(
      R"(<(?:java\.version|maven\.compiler\.release|maven\.compiler\.source)>\s*([0-9.]+)\s*<)");
  static const std::regex kGradleJava(
      R"((?:JavaLanguageVersion\.of\(|sourceCompatibility\s*=\s*['"]?(?:JavaVersion\.VERSION_)?)([0-9][0-9._]*))");
  static const std::regex kRustVersion(R"(rust-version\s*=\s*["']([^"']+)["'])");
  static const std::regex kToolchainChannel(R"(channel\s*=\s*["']([^"']+)["'])");

  if (language == "go") version_pattern(files, "go.mod", kGoDirective, analysis);
  if (language == "ruby") {
    version_file(files, ".ruby-version", analysis);
    version_pattern(files, "Gemfile", kGemfileRuby, analysis);
  }
  if (language == "java") {
    version_pattern(files, "pom.xml", kMavenJava, analysis);
    version_pattern(files, "build.gradle", kGradleJava, analysis);
    version_pattern(files, "build.gradle.kts", kGradleJava, analysis);
  }
  if (language == "php") {
    if (auto manifest = read_json_manifest(files, "composer.json"); manifest && !manifest->php_version.empty()) {
      set_version(analysis, manifest->php_version, evidence_of("composer.json", manifest->text, "\"php\""));
    }
  }
  if (language == "rust") {
    version_pattern(files, "Cargo.toml", kRustVersion, analysis);
    version_pattern(files, "rust-toolchain.toml", kToolchainChannel, analysis);
    version_file(files, "rust-toolchain", analysis);
  }
}

void set_package_manager(Analysis& analysis, std::string name, std::string lockfile, Origin origin, Evidence evidence) {
  analysis.package_manager = Finding<std::string>{std::move(name), origin, evidence};
  if (!lockfile.empty()) analysis.lockfile = Finding<std::string>{lockfile, Origin::kDetected, whole_file(lockfile)};
}

void node_package_manager(const RepoFiles& files, Analysis& analysis) {
  struct Lock {
    const char* file;
    const char* manager;
  };
  constexpr Lock kLocks[] = {{"bun.lockb", "bun"},  {"bun.lock", "bun"},          {"pnpm-lock.yaml", "pnpm"},
                             {"yarn.lock", "yarn"}, {"package-lock.json", "npm"}, {"npm-shrinkwrap.json", "npm"}};
  for (const Lock& lock : kLocks) {
    if (files.has(lock.file)) {
      return set_package_manager(analysis, lock.manager, lock.file, Origin::kDetected, whole_file(lock.file));
    }
  }

  auto manifest = read_json_manifest(files, "package.json");
  if (manifest && !manifest->package_manager.empty()) {
    std::string name = manifest->package_manager.substr(0, manifest->package_manager.find('@'));
    return set_package_manager(analysis, name, "", Origin::kDetected,
                               evidence_of("package.json", manifest->text, "\"packageManager\""));
  }
  set_package_manager(analysis, "npm", "", Origin::kDefault, Evidence{"", 0, "no lockfile"});
}

void python_package_manager(const RepoFiles& files, Analysis& analysis) {
  if (files.has("uv.lock"))
    return set_package_manager(analysis, "uv", "uv.lock", Origin::kDetected, whole_file("uv.lock"));
  if (files.has("poetry.lock")) {
    return set_package_manager(analysis, "poetry", "poetry.lock", Origin::kDetected, whole_file("poetry.lock"));
  }
  if (files.has("Pipfile")) {
    std::string lock = files.has("Pipfile.lock") ? "Pipfile.lock" : "";
    return set_package_manager(analysis, "pipenv", lock, Origin::kDetected, whole_file("Pipfile"));
  }
  if (const std::string* text = files.read("pyproject.toml");
      text && text->find("[tool.poetry]") != std::string::npos) {
    return set_package_manager(analysis, "poetry", "", Origin::kDetected,
                               evidence_of("pyproject.toml", *text, "[tool.poetry]"));
  }
  if (files.has("requirements.txt")) {
    return set_package_manager(analysis, "pip", "", Origin::kDetected, whole_file("requirements.txt"));
  }
  set_package_manager(analysis, "pip", "", Origin::kDefault, Evidence{"", 0, "no lockfile"});
}

// Frameworks by language, most specific first: Next.js and NestJS apps also
// depend on a lower-level server framework.
struct FrameworkRule {
  const char* language;
  const char* dependency;  // exact name, or a prefix when it ends with '*'
  const char* framework;
};

constexpr FrameworkRule kFrameworkRules[] = {
    {"node", "next", "next"},
    {"node", "nuxt", "nuxt"},
    {"node", "@nestjs/core", "nest"},
    {"node", "fastify", "fastify"},
    {"node", "koa", "koa"},
    {"node", "express", "express"},
    {"python", "django", "django"},
    {"python", "fastapi", "fastapi"},
    {"python", "flask", "flask"},
    {"ruby", "rails", "rails"},
    {"ruby", "sinatra", "sinatra"},
    {"java", "spring-boot-starter*", "spring-boot"},
    {"php", "laravel/framework", "laravel"},
    {"go", "github.com/gin-gonic/gin", "gin"},
    {"go", "github.com/labstack/echo*", "echo"},
    {"go", "github.com/gofiber/fiber*", "fiber"},
    {"go", "github.com/go-chi/chi*", "chi"},
    {"rust", "actix-web", "actix"},
    {"rust", "axum", "axum"},
    {"rust", "rocket", "rocket"},
};

bool dependency_matches(const std::string& name, std::string_view rule) {
  if (!rule.empty() && rule.back() == '*') return starts_with(name, rule.substr(0, rule.size() - 1));
  return name == rule;
}

// Go's standard library server, for Go apps without a framework dependency.
void go_net_http(const RepoFiles& files, Analysis& analysis) {
  for (const std::string& path : files.paths()) {
    if (extension(path) != ".go" || path.ends_with("_test.go")) continue;
    const std::string* text = files.read(path);
    if (!text) continue;
    size_t found = text->find("http.ListenAndServe");
    if (found == std::string::npos) continue;
    analysis.framework = Finding<std::string>{"net/http", Origin::kDetected, evidence_at(path, *text, found)};
    return;
  }
}

}  // namespace

std::optional<AppLocation> detect_language_from_paths(const std::vector<std::string>& sorted_paths) {
  for (const LanguageMarker& marker : kLanguageMarkers) {
    if (std::binary_search(sorted_paths.begin(), sorted_paths.end(), std::string_view(marker.file))) {
      return AppLocation{"", marker.language, marker.file};
    }
  }
  return std::nullopt;
}

std::optional<AppLocation> detect_language(const RepoFiles& files) { return detect_language_from_paths(files.paths()); }

void detect_runtime_version(const RepoFiles& files, Analysis& analysis) {
  const std::string& language = analysis.language.value;
  if (language == "node") node_version(files, analysis);
  if (language == "python") python_version(files, analysis);
  other_version(files, language, analysis);
}

void detect_package_manager(const RepoFiles& files, Analysis& analysis) {
  const std::string& language = analysis.language.value;
  if (language == "node") node_package_manager(files, analysis);
  if (language == "python") python_package_manager(files, analysis);

  struct Fixed {
    const char* language;
    const char* manifest;
    const char* manager;
    const char* lockfile;
  };
  constexpr Fixed kFixed[] = {{"ruby", "Gemfile", "bundler", "Gemfile.lock"},
                              {"java", "pom.xml", "maven", ""},
                              {"java", "build.gradle", "gradle", ""},
                              {"java", "build.gradle.kts", "gradle", ""},
                              {"php", "composer.json", "composer", "composer.lock"},
                              {"rust", "Cargo.toml", "cargo", "Cargo.lock"},
                              {"go", "go.mod", "go modules", "go.sum"},
                              {"deno", "deno.lock", "deno", "deno.lock"}};
  for (const Fixed& fixed : kFixed) {
    if (language != fixed.language || !files.has(fixed.manifest) || analysis.package_manager) continue;
    std::string lockfile = files.has(fixed.lockfile) ? fixed.lockfile : "";
    set_package_manager(analysis, fixed.manager, lockfile, Origin::kDetected, whole_file(fixed.manifest));
  }
}

void detect_framework(const RepoFiles& files, const std::vector<Dependency>& dependencies, Analysis& analysis) {
  for (const FrameworkRule& rule : kFrameworkRules) {
    if (analysis.language.value != rule.language) continue;
    for (const Dependency& dependency : dependencies) {
      if (!dependency_matches(dependency.name, rule.dependency)) continue;
      analysis.framework = Finding<std::string>{rule.framework, Origin::kDetected, dependency.evidence};
      return;
    }
  }
  if (analysis.language.value == "go") go_net_http(files, analysis);
}

}  // namespace hivemind::repo::detail
