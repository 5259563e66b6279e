// Deployment hints from the README and deployment documents: ports, commands
// in code blocks, and environment variables that they mention.

#include <algorithm>
#include <regex>
#include <set>

#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace {

bool is_deployment_document(const std::string& path) {
  std::string name = to_lower(std::string(file_name(path)));
  std::string_view ext = extension(name);
  if (!ext.empty() && ext != ".md" && ext != ".rst" && ext != ".txt") return false;
  std::string stem = name.substr(0, name.size() - ext.size());
  bool top_level = path.find('/') == std::string::npos;
  bool in_docs = starts_with(path, "docs/") && std::count(path.begin(), path.end(), '/') == 1;
  if (top_level) {
    for (const char* known : {"readme", "deploy", "deployment", "deploying", "install", "installation", "setup",
                              "running", "hosting", "production"}) {
      if (stem == known) return true;
    }
  }
  return in_docs && (stem.find("deploy") != std::string::npos || stem.find("install") != std::string::npos ||
                     stem.find("production") != std::string::npos);
}

// Programs whose command lines in a document's code blocks are worth reporting.
constexpr const char* kCommandPrograms[] = {
    "npm",     "npx",      "yarn",   "pnpm",           "bun",    "node",      "deno",
    "python",  "python3",  "pip",    "pip3",           "poetry", "pipenv",    "uv",
    "uvicorn", "gunicorn", "flask",  "django-admin",   "go",     "cargo",     "bundle",
    "rails",   "rake",     "mvn",    "./mvnw",         "gradle", "./gradlew", "java",
    "php",     "composer", "docker", "docker-compose", "make"};

bool is_command_line(const std::string& line) {
  std::string first = line.substr(0, line.find(' '));
  return std::any_of(std::begin(kCommandPrograms), std::end(kCommandPrograms),
                     [&](const char* program) { return first == program; });
}

void add_hint(std::vector<DeploymentHint>& hints, std::set<std::pair<std::string, std::string>>& seen,
              const std::string& kind, const std::string& value, Evidence evidence) {
  if (!seen.insert({kind, value}).second) return;
  hints.push_back({kind, value, std::move(evidence)});
}

void document_hints(const std::string& path, const std::string& text, std::vector<DeploymentHint>& hints,
                    std::set<std::pair<std::string, std::string>>& seen) {
  static const std::regex kPort(R"((?:localhost|127\.0\.0\.1|0\.0\.0\.0):(\d{2,5})|\b[Pp]ort\s+(\d{2,5})\b)");
  static const std::regex kVariable(R"((?:^|[\s`(])(?:export\s+)?([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=|`))");

  bool in_code_block = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = trim(std::string_view(text).substr(start, end - start));
    Evidence evidence = evidence_at(path, text, start);

    if (starts_with(line, "```") || starts_with(line, "~~~")) {
      in_code_block = !in_code_block;
    } else {
      if (in_code_block) {
        std::string command = starts_with(line, "$ ") ? trim(line.substr(2)) : line;
        if (is_command_line(command)) add_hint(hints, seen, "command", command, evidence);
      }
      for (auto it = std::sregex_iterator(line.begin(), line.end(), kPort); it != std::sregex_iterator(); ++it) {
        std::string port = (*it)[1].matched ? it->str(1) : it->str(2);
        // Database ports in connection examples are not the app's own.
        if (port == "5432" || port == "3306" || port == "6379" || port == "27017") continue;
        add_hint(hints, seen, "port", port, evidence);
      }
      for (auto it = std::sregex_iterator(line.begin(), line.end(), kVariable); it != std::sregex_iterator(); ++it) {
        add_hint(hints, seen, "variable", it->str(1), evidence);
      }
    }
    start = end + 1;
  }
}

}  // namespace

void detect_hints(const RepoFiles& files, Analysis& analysis) {
  std::set<std::pair<std::string, std::string>> seen;
  analysis.hints.clear();
  for (const std::string& path : files.paths()) {
    if (!is_deployment_document(path)) continue;
    const std::string* text = files.read(path);
    if (text) document_hints(path, *text, analysis.hints, seen);
  }
}

}  // namespace hivemind::repo::detail
