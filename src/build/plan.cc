#include "build/plan.h"

#include <map>

#include "common/strings.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

BuildStep tool_step(std::string purpose, std::vector<std::string> argv, std::string reason) {
  std::string command;
  for (const std::string& argument : argv) command += (command.empty() ? "" : " ") + argument;
  std::string tool = argv.front();
  return BuildStep{std::move(purpose), command, std::move(argv), tool, std::move(reason)};
}

// A command written by the project (package.json script, Procfile,
// hivemind.toml) is a shell command by nature, so it runs through /bin/sh.
BuildStep shell_step(std::string purpose, const std::string& command, std::string reason) {
  std::string tool = split(trim(command), ' ').front();
  return BuildStep{std::move(purpose), command, {"/bin/sh", "-c", command}, tool, std::move(reason)};
}

bool has(const fs::path& app_root, const char* name) { return fs::exists(app_root / name); }

void plan_node(const fs::path& root, std::vector<BuildStep>& steps) {
  if (has(root, "pnpm-lock.yaml")) {
    steps.push_back(tool_step("install dependencies", {"pnpm", "install", "--frozen-lockfile"}, "pnpm-lock.yaml"));
  } else if (has(root, "yarn.lock")) {
    steps.push_back(tool_step("install dependencies", {"yarn", "install", "--frozen-lockfile"}, "yarn.lock"));
  } else if (has(root, "bun.lockb") || has(root, "bun.lock")) {
    steps.push_back(tool_step("install dependencies", {"bun", "install", "--frozen-lockfile"}, "bun lockfile"));
  } else if (has(root, "package-lock.json") || has(root, "npm-shrinkwrap.json")) {
    steps.push_back(tool_step("install dependencies", {"npm", "ci"}, "package-lock.json"));
  } else {
    steps.push_back(tool_step("install dependencies", {"npm", "install"}, "no lockfile"));
  }
}

void plan_node_prune(const fs::path& root, std::vector<BuildStep>& steps) {
  if (has(root, "pnpm-lock.yaml")) {
    steps.push_back(tool_step("remove development dependencies", {"pnpm", "prune", "--prod"}, "pnpm-lock.yaml"));
  } else if (has(root, "yarn.lock")) {
    // Yarn 1 has no prune; installing again with --production removes them.
    steps.push_back(tool_step("remove development dependencies",
                              {"yarn", "install", "--frozen-lockfile", "--production", "--ignore-scripts"},
                              "yarn.lock"));
  } else if (!has(root, "bun.lockb") && !has(root, "bun.lock")) {
    steps.push_back(tool_step("remove development dependencies", {"npm", "prune", "--omit=dev"}, "npm"));
  }
}

void plan_python(const fs::path& root, std::vector<BuildStep>& steps) {
  if (has(root, "poetry.lock")) {
    steps.push_back(
        tool_step("install dependencies", {"poetry", "install", "--no-root", "--only", "main"}, "poetry.lock"));
  } else if (has(root, "uv.lock")) {
    steps.push_back(tool_step("install dependencies", {"uv", "sync", "--frozen", "--no-dev"}, "uv.lock"));
  } else if (has(root, "Pipfile.lock")) {
    steps.push_back(tool_step("install dependencies", {"pipenv", "install", "--deploy"}, "Pipfile.lock"));
  } else if (has(root, "requirements.txt")) {
    steps.push_back(tool_step(
        "install dependencies",
        {"python3", "-m", "pip", "install", "--no-input", "--target", ".python_packages", "-r", "requirements.txt"},
        "requirements.txt"));
  }
}

void plan_other(const std::string& language, const fs::path& root, std::vector<BuildStep>& steps) {
  if (language == "go") {
    steps.push_back(tool_step("download modules", {"go", "mod", "download"}, "go.mod"));
    steps.push_back(tool_step("build", {"go", "build", "-mod=readonly", "-o", "app", "."}, "go.mod"));
  } else if (language == "ruby") {
    steps.push_back(
        tool_step("configure bundler", {"bundle", "config", "set", "--local", "deployment", "true"}, "Gemfile.lock"));
    steps.push_back(tool_step("install dependencies", {"bundle", "install"}, "Gemfile.lock"));
  } else if (language == "java" && (has(root, "pom.xml"))) {
    std::string maven = has(root, "mvnw") ? "./mvnw" : "mvn";
    steps.push_back(tool_step("build", {maven, "-B", "-DskipTests", "package"}, "pom.xml"));
  } else if (language == "java") {
    std::string gradle = has(root, "gradlew") ? "./gradlew" : "gradle";
    steps.push_back(tool_step("build", {gradle, "build", "-x", "test"}, "build.gradle"));
  } else if (language == "php") {
    steps.push_back(tool_step("install dependencies",
                              {"composer", "install", "--no-dev", "--prefer-dist", "--no-interaction"},
                              "composer.json"));
  } else if (language == "rust") {
    steps.push_back(tool_step("build", {"cargo", "build", "--release", "--locked"}, "Cargo.lock"));
  }
}

}  // namespace

std::vector<BuildStep> plan_build(const repo::Analysis& analysis, const fs::path& app_root) {
  std::vector<BuildStep> steps;
  const std::string& language = analysis.language.value;
  bool configured_install = analysis.install_command && analysis.install_command->origin == repo::Origin::kConfig;

  if (configured_install) {
    steps.push_back(shell_step("install dependencies", analysis.install_command->value, "hivemind.toml"));
  } else if (language == "node") {
    plan_node(app_root, steps);
  } else if (language == "python") {
    plan_python(app_root, steps);
  } else {
    plan_other(language, app_root, steps);
  }

  if (analysis.build_command && !analysis.build_command->value.empty()) {
    std::string reason = analysis.build_command->evidence.file.empty()
                             ? repo::origin_name(analysis.build_command->origin)
                             : analysis.build_command->evidence.file;
    steps.push_back(shell_step("build", analysis.build_command->value, reason));
  }
  if (language == "node" && !configured_install) plan_node_prune(app_root, steps);
  return steps;
}

std::string install_hint(const std::string& tool) {
  static const std::map<std::string, std::string> kHints = {
      {"npm", "Install Node.js and npm (apt-get install nodejs npm, or from nodejs.org)."},
      {"yarn", "Install Yarn (npm install --global yarn, or corepack enable)."},
      {"pnpm", "Install pnpm (npm install --global pnpm, or corepack enable)."},
      {"bun", "Install Bun from bun.sh."},
      {"python3", "Install Python 3 and pip (apt-get install python3 python3-pip)."},
      {"poetry", "Install Poetry (apt-get install python3-poetry, or pipx install poetry)."},
      {"pipenv", "Install Pipenv (apt-get install pipenv, or pipx install pipenv)."},
      {"uv", "Install uv from docs.astral.sh/uv."},
      {"go", "Install Go (apt-get install golang-go, or from go.dev/dl)."},
      {"bundle", "Install Ruby and Bundler (apt-get install ruby-bundler)."},
      {"mvn", "Install Maven (apt-get install maven), or commit the Maven wrapper (mvnw)."},
      {"gradle", "Install Gradle, or commit the Gradle wrapper (gradlew)."},
      {"composer", "Install Composer (apt-get install composer)."},
      {"cargo", "Install Rust and Cargo (apt-get install cargo, or rustup)."},
  };
  auto hint = kHints.find(tool);
  std::string text = hint != kHints.end() ? hint->second : "Install " + tool + " on this machine.";
  return text + " Or set the install command in hivemind.toml.";
}

}  // namespace hivemind::build
