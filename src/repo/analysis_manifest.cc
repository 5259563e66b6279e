// Reading of dependency manifests: package.json, composer.json, deno.json,
// requirements files, pyproject.toml, Pipfile, Gemfile, go.mod, pom.xml,
// Gradle build files and Cargo.toml.

#include <toml++/toml.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace {

using nlohmann::json;

void add_object_keys(const json& document, const char* key, std::map<std::string, std::string>& out) {
  auto found = document.find(key);
  if (found == document.end() || !found->is_object()) return;
  for (auto& [name, value] : found->items()) out.emplace(name, value.is_string() ? value.get<std::string>() : "");
}

std::string string_at(const json& document, std::initializer_list<const char*> keys) {
  const json* node = &document;
  for (const char* key : keys) {
    if (!node->is_object()) return {};
    auto found = node->find(key);
    if (found == node->end()) return {};
    node = &*found;
  }
  return node->is_string() ? node->get<std::string>() : std::string{};
}

// Evidence for a dependency listed in a JSON manifest: the line of its quoted name.
Evidence json_key_evidence(const std::string& path, const std::string& text, const std::string& name) {
  return evidence_of(path, text, "\"" + name + "\"");
}

void add_json_dependencies(const RepoFiles& files, const std::string& path, std::vector<Dependency>& out) {
  std::optional<JsonManifest> manifest = read_json_manifest(files, path);
  if (!manifest) return;
  for (const auto& [name, version] : manifest->dependencies) {
    out.push_back({to_lower(name), json_key_evidence(path, manifest->text, name)});
  }
}

// Returns the package name of a PEP 508 requirement ("Flask[async]>=3" -> "flask").
std::string requirement_name(std::string_view requirement) {
  std::string line = trim(requirement);
  size_t end = line.find_first_of(" [<>=!~;@(,");
  std::string name = to_lower(line.substr(0, end));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

void add_requirements_file(const RepoFiles& files, const std::string& path, std::vector<Dependency>& out) {
  const std::string* text = files.read(path);
  if (!text) return;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = trim(std::string_view(*text).substr(start, end - start));
    if (!line.empty() && line[0] != '#' && line[0] != '-') {
      std::string name = requirement_name(line);
      if (!name.empty()) out.push_back({name, evidence_at(path, *text, start)});
    }
    start = end + 1;
  }
}

void add_toml_table_keys(const toml::table* table, const std::string& path, const std::string& text,
                         std::vector<Dependency>& out, bool python) {
  if (!table) return;
  for (const auto& [key, node] : *table) {
    std::string name = to_lower(std::string(key.str()));
    if (python) std::replace(name.begin(), name.end(), '_', '-');
    int line = static_cast<int>(key.source().begin.line);
    out.push_back({name, Evidence{path, line, line_text(text, line)}});
  }
}

void add_pyproject(const RepoFiles& files, std::vector<Dependency>& out) {
  const std::string path = "pyproject.toml";
  const std::string* text = files.read(path);
  if (!text) return;
  toml::table document;
  try {
    document = toml::parse(std::string_view(*text), std::string_view(path));
  } catch (const toml::parse_error&) {
    return;
  }

  if (const toml::array* listed = document["project"]["dependencies"].as_array()) {
    for (const toml::node& item : *listed) {
      const auto* value = item.as_string();
      if (!value) continue;
      int line = static_cast<int>(item.source().begin.line);
      out.push_back({requirement_name(value->get()), Evidence{path, line, line_text(*text, line)}});
    }
  }
  add_toml_table_keys(document["tool"]["poetry"]["dependencies"].as_table(), path, *text, out, true);
}

void add_pipfile(const RepoFiles& files, std::vector<Dependency>& out) {
  const std::string* text = files.read("Pipfile");
  if (!text) return;
  try {
    toml::table document = toml::parse(std::string_view(*text), std::string_view("Pipfile"));
    add_toml_table_keys(document["packages"].as_table(), "Pipfile", *text, out, true);
  } catch (const toml::parse_error&) {
  }
}

void add_cargo(const RepoFiles& files, std::vector<Dependency>& out) {
  const std::string* text = files.read("Cargo.toml");
  if (!text) return;
  try {
    toml::table document = toml::parse(std::string_view(*text), std::string_view("Cargo.toml"));
    add_toml_table_keys(document["dependencies"].as_table(), "Cargo.toml", *text, out, false);
  } catch (const toml::parse_error&) {
  }
}

// Adds each match of the first capture group of `pattern`, one per line.
void add_pattern_matches(const RepoFiles& files, const std::string& path, const std::regex& pattern,
                         std::vector<Dependency>& out) {
  const std::string* text = files.read(path);
  if (!text) return;
  for (auto it = std::sregex_iterator(text->begin(), text->end(), pattern); it != std::sregex_iterator(); ++it) {
    size_t offset = static_cast<size_t>(it->position(1));
    out.push_back({to_lower(it->str(1)), evidence_at(path, *text, offset)});
  }
}

void add_go_mod(const RepoFiles& files, std::vector<Dependency>& out) {
  // Module paths in require lines, both `require x v1` and inside `require ( ... )`.
  static const std::regex kModule(R"((?:^|\n)\s*(?:require\s+)?([a-zA-Z0-9.\-]+\.[a-z]+/[^\s]+)\s+v[0-9])");
  add_pattern_matches(files, "go.mod", kModule, out);
}

void add_gemfile(const RepoFiles& files, std::vector<Dependency>& out) {
  static const std::regex kGem(R"((?:^|\n)\s*gem\s+['"]([^'"]+)['"])");
  add_pattern_matches(files, "Gemfile", kGem, out);
}

void add_java(const RepoFiles& files, std::vector<Dependency>& out) {
  static const std::regex kArtifact(R"(<artifactId>\s*([^<\s]+)\s*</artifactId>)");
  static const std::regex kGradle(R"(['"][A-Za-z0-9_.\-]+:([A-Za-z0-9_.\-]+)(?::[^'"]*)?['"])");
  add_pattern_matches(files, "pom.xml", kArtifact, out);
  add_pattern_matches(files, "build.gradle", kGradle, out);
  add_pattern_matches(files, "build.gradle.kts", kGradle, out);
}

}  // namespace

std::optional<JsonManifest> read_json_manifest(const RepoFiles& files, const std::string& path) {
  const std::string* text = files.read(path);
  if (!text) return std::nullopt;
  json document = json::parse(*text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (document.is_discarded() || !document.is_object()) return std::nullopt;

  JsonManifest manifest;
  manifest.path = path;
  manifest.text = *text;
  add_object_keys(document, "dependencies", manifest.dependencies);
  add_object_keys(document, "devDependencies", manifest.dependencies);
  add_object_keys(document, "require", manifest.dependencies);
  add_object_keys(document, "require-dev", manifest.dependencies);
  add_object_keys(document, "imports", manifest.dependencies);
  add_object_keys(document, "scripts", manifest.scripts);
  add_object_keys(document, "tasks", manifest.scripts);
  manifest.engines_node = string_at(document, {"engines", "node"});
  manifest.package_manager = string_at(document, {"packageManager"});
  manifest.main = string_at(document, {"main"});
  manifest.php_version = string_at(document, {"require", "php"});
  return manifest;
}

std::vector<Dependency> collect_dependencies(const RepoFiles& files, const std::string& language) {
  std::vector<Dependency> out;
  if (language == "node") add_json_dependencies(files, "package.json", out);
  if (language == "deno") {
    add_json_dependencies(files, files.first_existing({"deno.json", "deno.jsonc"}), out);
    add_json_dependencies(files, "package.json", out);
  }
  if (language == "php") add_json_dependencies(files, "composer.json", out);
  if (language == "python") {
    for (const std::string& path : files.paths()) {
      bool top_level = path.find('/') == std::string::npos;
      bool in_requirements_folder = starts_with(path, "requirements/") && extension(path) == ".txt";
      if ((top_level && starts_with(path, "requirements") && extension(path) == ".txt") || in_requirements_folder) {
        add_requirements_file(files, path, out);
      }
    }
    add_pyproject(files, out);
    add_pipfile(files, out);
  }
  if (language == "go") add_go_mod(files, out);
  if (language == "ruby") add_gemfile(files, out);
  if (language == "java") add_java(files, out);
  if (language == "rust") add_cargo(files, out);
  return out;
}

}  // namespace hivemind::repo::detail
