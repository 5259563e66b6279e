// Install, build and start commands: from Procfile, package.json scripts and
// the Dockerfile first, then from each framework's conventions.

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace {

std::string to_upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

void set_command(std::optional<Finding<std::string>>& slot, std::string command, Evidence evidence) {
  if (slot || command.empty()) return;
  slot = Finding<std::string>{std::move(command), Origin::kDetected, std::move(evidence)};
}

// Joins an exec-form instruction (["node", "server.js"]) into one command line.
std::string docker_command_text(const std::string& argument) {
  std::string text = trim(argument);
  if (text.empty() || text[0] != '[') return text;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return text;
  std::string joined;
  for (const auto& word : parsed) {
    if (!word.is_string()) continue;
    if (!joined.empty()) joined += ' ';
    joined += word.get<std::string>();
  }
  return joined;
}

// Returns the Procfile's command for `process` ("web", "worker"), with its line.
std::optional<std::pair<std::string, Evidence>> procfile_entry(const RepoFiles& files, std::string_view process) {
  const std::string* text = files.read("Procfile");
  if (!text) return std::nullopt;
  std::string prefix = std::string(process) + ":";
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = trim(std::string_view(*text).substr(start, end - start));
    if (starts_with(line, prefix))
      return std::make_pair(trim(line.substr(prefix.size())), evidence_at("Procfile", *text, start));
    start = end + 1;
  }
  return std::nullopt;
}

std::string run_script_command(const std::string& manager, const std::string& script) {
  if (manager == "npm") return script == "start" ? "npm start" : "npm run " + script;
  if (manager == "bun") return "bun run " + script;
  return manager + " " + (script == "start" ? "start" : "run " + script);
}

// Returns the suffix of a `run_script_command` line that passes `arguments`
// on to the script. npm needs a `--` first; yarn, pnpm and bun do not.
std::string script_arguments(const std::string& manager, const std::string& arguments) {
  return manager == "npm" ? " -- " + arguments : " " + arguments;
}

// fastify-cli's `fastify start` (read in fastify-cli 8.0.2) listens on
// localhost unless it is given an address or finds itself in a container (it
// looks for /.dockerenv), so on an EC2 host no load balancer could reach it.
bool needs_fastify_address(const std::string& script) {
  static const std::regex kAddress(R"((^|\s)(-a|--address)(\s|=|$))");
  return runs_fastify_start(script) && !std::regex_search(script, kAddress);
}

std::string node_install_command(const Analysis& analysis) {
  std::string manager = analysis.package_manager ? analysis.package_manager->value : "npm";
  bool locked = analysis.lockfile.has_value();
  if (manager == "yarn") return locked ? "yarn install --frozen-lockfile" : "yarn install";
  if (manager == "pnpm") return locked ? "pnpm install --frozen-lockfile" : "pnpm install";
  if (manager == "bun") return "bun install";
  return locked ? "npm ci" : "npm install";
}

void node_commands(const RepoFiles& files, Analysis& analysis) {
  std::string manager = analysis.package_manager ? analysis.package_manager->value : "npm";
  Evidence install_evidence = analysis.lockfile ? analysis.lockfile->evidence : whole_file("package.json");
  set_command(analysis.install_command, node_install_command(analysis), install_evidence);

  auto manifest = read_json_manifest(files, "package.json");
  if (!manifest) return;
  auto script_evidence = [&](const std::string& name) {
    return evidence_of("package.json", manifest->text, "\"" + name + "\":");
  };
  if (manifest->scripts.contains("build")) {
    set_command(analysis.build_command, run_script_command(manager, "build"), script_evidence("build"));
  }
  bool is_nest = analysis.framework && analysis.framework->value == "nest";
  if (is_nest && manifest->scripts.contains("start:prod")) {
    set_command(analysis.start_command, run_script_command(manager, "start:prod"), script_evidence("start:prod"));
  }
  if (manifest->scripts.contains("start")) {
    std::string command = run_script_command(manager, "start");
    if (needs_fastify_address(manifest->scripts.at("start"))) command += script_arguments(manager, "--address 0.0.0.0");
    set_command(analysis.start_command, command, script_evidence("start"));
  }
}

void python_install(const RepoFiles& files, Analysis& analysis) {
  std::string manager = analysis.package_manager ? analysis.package_manager->value : "pip";
  Evidence evidence = analysis.package_manager ? analysis.package_manager->evidence : Evidence{};
  if (manager == "uv") return set_command(analysis.install_command, "uv sync --frozen", evidence);
  if (manager == "poetry")
    return set_command(analysis.install_command, "poetry install --only main --no-root", evidence);
  if (manager == "pipenv") return set_command(analysis.install_command, "pipenv install --deploy", evidence);
  if (files.has("requirements.txt")) {
    return set_command(analysis.install_command, "pip install -r requirements.txt", whole_file("requirements.txt"));
  }
  if (files.has("pyproject.toml")) set_command(analysis.install_command, "pip install .", whole_file("pyproject.toml"));
}

void other_install_and_build(const RepoFiles& files, Analysis& analysis) {
  const std::string& language = analysis.language.value;
  std::string manager = analysis.package_manager ? analysis.package_manager->value : "";
  Evidence evidence = analysis.package_manager ? analysis.package_manager->evidence : Evidence{};

  if (language == "ruby") set_command(analysis.install_command, "bundle install", evidence);
  if (language == "php") {
    set_command(analysis.install_command, "composer install --no-dev --optimize-autoloader", evidence);
  }
  if (language == "go") {
    set_command(analysis.install_command, "go mod download", evidence);
    std::string package = files.has("main.go") ? "." : "";
    for (const std::string& path : files.paths()) {
      if (package.empty() && starts_with(path, "cmd/") && path.ends_with("/main.go"))
        package = "./" + path.substr(0, path.size() - 8);
    }
    if (!package.empty()) set_command(analysis.build_command, "go build -o app " + package, evidence);
  }
  if (language == "rust") set_command(analysis.build_command, "cargo build --release", evidence);
  if (language == "java" && manager == "maven") {
    std::string maven = files.has("mvnw") ? "./mvnw" : "mvn";
    set_command(analysis.build_command, maven + " -B package -DskipTests", evidence);
  }
  if (language == "java" && manager == "gradle") {
    std::string gradle = files.has("gradlew") ? "./gradlew" : "gradle";
    set_command(analysis.build_command, gradle + " build -x test", evidence);
  }
}

// Finds `<name> = <Constructor>(` in the application's Python files, shallowest
// first, and returns "module:name" with the evidence.
std::optional<std::pair<std::string, Evidence>> python_app_object(const RepoFiles& files,
                                                                  const std::string& constructor) {
  std::regex pattern("(?:^|\\n)([A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*" + constructor + "\\(");
  std::vector<std::string> candidates;
  for (const std::string& path : files.paths()) {
    if (extension(path) == ".py" && !starts_with(path, "tests/")) candidates.push_back(path);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/');
  });
  for (const std::string& path : candidates) {
    const std::string* text = files.read(path);
    std::smatch match;
    if (!text || !std::regex_search(*text, match, pattern)) continue;
    std::string module = path.substr(0, path.size() - 3);
    std::replace(module.begin(), module.end(), '/', '.');
    return std::make_pair(module + ":" + match.str(1),
                          evidence_at(path, *text, static_cast<size_t>(match.position(1))));
  }
  return std::nullopt;
}

void python_start(const RepoFiles& files, const std::string& framework, int port, Analysis& analysis) {
  std::string bind = std::to_string(port);
  if (framework == "flask") {
    if (auto app = python_app_object(files, "Flask")) {
      set_command(analysis.start_command, "gunicorn --bind 0.0.0.0:" + bind + " " + app->first, app->second);
    }
  }
  if (framework == "fastapi") {
    if (auto app = python_app_object(files, "FastAPI")) {
      set_command(analysis.start_command, "uvicorn " + app->first + " --host 0.0.0.0 --port " + bind, app->second);
    }
  }
  if (framework == "django") {
    for (const std::string& path : files.paths()) {
      if (file_name(path) != "wsgi.py" || std::count(path.begin(), path.end(), '/') != 1) continue;
      std::string module = path.substr(0, path.find('/')) + ".wsgi";
      set_command(analysis.start_command, "gunicorn --bind 0.0.0.0:" + bind + " " + module, whole_file(path));
    }
  }
  for (const char* script : {"main.py", "app.py", "worker.py", "run.py"}) {
    if (files.has(script)) set_command(analysis.start_command, std::string("python ") + script, whole_file(script));
  }
}

void node_start(const RepoFiles& files, const std::string& framework, int port, Analysis& analysis) {
  Evidence framework_evidence = analysis.framework ? analysis.framework->evidence : Evidence{};
  if (framework == "next") {
    set_command(analysis.start_command, "npx next start -p " + std::to_string(port), framework_evidence);
  }
  if (framework == "nuxt") set_command(analysis.start_command, "node .output/server/index.mjs", framework_evidence);
  if (auto manifest = read_json_manifest(files, "package.json"); manifest && !manifest->main.empty()) {
    if (files.has(manifest->main)) {
      set_command(analysis.start_command, "node " + manifest->main,
                  evidence_of("package.json", manifest->text, "\"main\""));
    }
  }
  for (const char* script : {"server.js", "app.js", "index.js", "main.js", "src/server.js", "src/index.js"}) {
    if (files.has(script)) set_command(analysis.start_command, std::string("node ") + script, whole_file(script));
  }
}

void other_start(const RepoFiles& files, const std::string& framework, int port, Analysis& analysis) {
  const std::string& language = analysis.language.value;
  Evidence framework_evidence = analysis.framework ? analysis.framework->evidence : Evidence{};
  std::string bind = std::to_string(port);

  if (framework == "rails") {
    set_command(analysis.start_command, "bundle exec rails server -b 0.0.0.0 -p " + bind, framework_evidence);
  }
  if (framework == "sinatra" && files.has("config.ru")) {
    set_command(analysis.start_command, "bundle exec rackup --host 0.0.0.0 -p " + bind, whole_file("config.ru"));
  }
  if (language == "ruby" && files.has("app.rb"))
    set_command(analysis.start_command, "bundle exec ruby app.rb", whole_file("app.rb"));
  if (framework == "laravel") {
    set_command(analysis.start_command, "php artisan serve --host=0.0.0.0 --port=" + bind, framework_evidence);
  }
  if (language == "php") {
    std::string docroot = files.has("public/index.php") ? "public" : ".";
    set_command(analysis.start_command, "php -S 0.0.0.0:" + bind + " -t " + docroot, Evidence{});
  }
  if (language == "java" && analysis.build_command) {
    std::string jar =
        analysis.package_manager && analysis.package_manager->value == "gradle" ? "build/libs/*.jar" : "target/*.jar";
    set_command(analysis.start_command, "java -jar " + jar, analysis.build_command->evidence);
  }
  if (language == "go" && analysis.build_command)
    set_command(analysis.start_command, "./app", analysis.build_command->evidence);
  if (language == "rust") {
    static const std::regex kName(R"(\[package\][^\[]*?name\s*=\s*"([^"]+)\")");
    const std::string* text = files.read("Cargo.toml");
    std::smatch match;
    if (text && std::regex_search(*text, match, kName)) {
      set_command(analysis.start_command, "./target/release/" + match.str(1),
                  evidence_at("Cargo.toml", *text, static_cast<size_t>(match.position(1))));
    }
  }
  if (language == "deno") {
    for (const char* script : {"main.ts", "server.ts", "mod.ts", "main.js"}) {
      if (files.has(script)) {
        set_command(analysis.start_command, std::string("deno run --allow-net --allow-env ") + script,
                    whole_file(script));
      }
    }
  }
}

}  // namespace

bool runs_fastify_start(const std::string& script) {
  static const std::regex kFastifyStart(R"((^|[\s;&|])fastify\s+start(\s|$))");
  return std::regex_search(script, kFastifyStart);
}

std::optional<DockerfileInfo> read_dockerfile(const RepoFiles& files) {
  const std::string* text = files.read("Dockerfile");
  if (!text) return std::nullopt;
  DockerfileInfo info;
  info.path = "Dockerfile";
  std::string entrypoint, command;
  Evidence command_evidence;

  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = trim(std::string_view(*text).substr(start, end - start));
    size_t space = line.find_first_of(" \t");
    std::string instruction = to_upper(line.substr(0, space));
    std::string argument = space == std::string::npos ? "" : trim(line.substr(space));
    Evidence evidence = evidence_at("Dockerfile", *text, start);

    if (instruction == "FROM") {
      std::string image = argument.substr(0, argument.find_first_of(" \t"));
      info.base_images.emplace_back(image, evidence);
      info.exposed_ports.clear();  // a new stage starts
      entrypoint.clear();
      command.clear();
    } else if (instruction == "EXPOSE") {
      for (const std::string& word : split(argument, ' ')) {
        std::string number = word.substr(0, word.find('/'));
        if (!number.empty() && std::all_of(number.begin(), number.end(), ::isdigit) && number.size() <= 5) {
          info.exposed_ports.push_back(Finding<int>{std::stoi(number), Origin::kDetected, evidence});
        }
      }
    } else if (instruction == "CMD") {
      command = docker_command_text(argument);
      command_evidence = evidence;
    } else if (instruction == "ENTRYPOINT") {
      entrypoint = docker_command_text(argument);
      command_evidence = evidence;
    }
    start = end + 1;
  }

  std::string full = entrypoint.empty() ? command : (command.empty() ? entrypoint : entrypoint + " " + command);
  if (!full.empty()) info.command = Finding<std::string>{full, Origin::kDetected, command_evidence};
  return info;
}

void detect_commands(const RepoFiles& files, Analysis& analysis) {
  if (auto web = procfile_entry(files, "web")) set_command(analysis.start_command, web->first, web->second);
  if (auto worker = procfile_entry(files, "worker")) set_command(analysis.start_command, worker->first, worker->second);

  const std::string& language = analysis.language.value;
  if (language == "node") node_commands(files, analysis);
  if (language == "python") python_install(files, analysis);
  if (language == "deno") {
    if (auto manifest = read_json_manifest(files, files.first_existing({"deno.json", "deno.jsonc"}));
        manifest && manifest->scripts.contains("start")) {
      set_command(analysis.start_command, "deno task start", evidence_of(manifest->path, manifest->text, "\"start\""));
    }
  }
  other_install_and_build(files, analysis);

  if (auto docker = read_dockerfile(files); docker && docker->command) {
    set_command(analysis.start_command, docker->command->value, docker->command->evidence);
  }
}

void detect_conventional_start(const RepoFiles& files, Analysis& analysis) {
  if (analysis.start_command) return;
  std::string framework = analysis.framework ? analysis.framework->value : "";
  int port = analysis.primary_port() != 0 ? analysis.primary_port() : 8000;
  if (analysis.language.value == "python") python_start(files, framework, port, analysis);
  if (analysis.language.value == "node") node_start(files, framework, port, analysis);
  other_start(files, framework, port, analysis);
}

}  // namespace hivemind::repo::detail
