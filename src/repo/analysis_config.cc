// hivemind.toml: values that override what analysis detects. Every key is
// documented in docs/analysis.md; any other key is an error.

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace {

constexpr const char* kConfigFile = "hivemind.toml";

constexpr const char* kAppStringKeys[] = {"dir",           "language",        "runtime_version",
                                          "framework",     "package_manager", "install_command",
                                          "build_command", "start_command",   "health_check_path"};
constexpr const char* kAppOtherKeys[] = {"port", "ports", "web_service", "services"};
constexpr const char* kEnvKeys[] = {"required", "optional"};
constexpr const char* kLanguages[] = {"node", "python", "go",   "ruby",   "java",
                                      "php",  "rust",   "deno", "static", "container"};

int line_of_node(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

Error config_error(int line, const std::string& problem, const std::string& remediation) {
  return make_error("analysis.config_invalid",
                    std::string(kConfigFile) + " line " + std::to_string(line) + ": " + problem, remediation);
}

Evidence config_evidence(const toml::node& node, const std::string& key) {
  return Evidence{kConfigFile, line_of_node(node), key};
}

template <size_t N>
bool contains(const char* const (&list)[N], std::string_view value) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* item) { return value == item; });
}

template <size_t N>
std::string join(const char* const (&list)[N]) {
  std::string joined;
  for (const char* item : list) joined += (joined.empty() ? "" : ", ") + std::string(item);
  return joined;
}

Result<int> read_port(const toml::node& node, const std::string& key) {
  const auto* integer = node.as_integer();
  if (!integer || integer->get() < 1 || integer->get() > 65535) {
    return fail(config_error(line_of_node(node), "invalid value for " + key + ": expected an integer from 1 to 65535.",
                             "Write the port as a number, e.g. " + key + " = 8080."));
  }
  return static_cast<int>(integer->get());
}

Status read_string_key(const std::string& key, const toml::node& node, ConfigOverrides& config) {
  const auto* text = node.as_string();
  if (!text || trim(text->get()).empty()) {
    return fail(config_error(line_of_node(node), "invalid value for app." + key + ": expected a non-empty string.",
                             "Quote the value, e.g. app." + key + " = \"...\"."));
  }
  std::string value = text->get();
  if (key == "language" && !contains(kLanguages, value)) {
    return fail(config_error(line_of_node(node), "invalid value for app.language: \"" + value + "\".",
                             "Use one of: " + join(kLanguages) + "."));
  }
  if (key == "health_check_path" && value[0] != '/') {
    return fail(config_error(line_of_node(node), "invalid value for app.health_check_path: \"" + value + "\".",
                             "Start the path with '/', e.g. \"/healthz\"."));
  }
  if (key == "dir") {
    config.dir = value;
    return ok_unit();
  }

  Finding<std::string> finding{value, Origin::kConfig, config_evidence(node, "app." + key)};
  if (key == "language") config.language = finding;
  if (key == "runtime_version") config.runtime_version = finding;
  if (key == "framework") config.framework = finding;
  if (key == "package_manager") config.package_manager = finding;
  if (key == "install_command") config.install_command = finding;
  if (key == "build_command") config.build_command = finding;
  if (key == "start_command") config.start_command = finding;
  if (key == "health_check_path") config.health_check_path = finding;
  return ok_unit();
}

Status read_services(const toml::node& node, ConfigOverrides& config) {
  const auto* list = node.as_array();
  if (!list) {
    return fail(config_error(line_of_node(node), "invalid value for app.services: expected an array of names.",
                             "Write e.g. app.services = [\"postgresql\", \"redis\"]."));
  }
  config.services_set = true;
  for (const toml::node& item : *list) {
    const auto* name = item.as_string();
    std::optional<ServiceKind> kind = name ? parse_service_name(name->get()) : std::nullopt;
    if (!kind) {
      return fail(config_error(line_of_node(item), "invalid service in app.services.",
                               "Use postgresql, mysql, redis or mongodb."));
    }
    config.services.emplace_back(*kind, config_evidence(item, "app.services"));
  }
  return ok_unit();
}

Status read_app_table(const toml::table& app, ConfigOverrides& config) {
  for (const auto& [key_name, node] : app) {
    std::string key(key_name.str());
    if (contains(kAppStringKeys, key)) {
      if (Status status = read_string_key(key, node, config); !status) return status;
    } else if (key == "port") {
      Result<int> port = read_port(node, "app.port");
      if (!port) return fail(port.error());
      config.ports.insert(config.ports.begin(),
                          Finding<int>{*port, Origin::kConfig, config_evidence(node, "app.port")});
    } else if (key == "ports") {
      const auto* list = node.as_array();
      if (!list)
        return fail(config_error(line_of_node(node), "invalid value for app.ports: expected an array of integers.",
                                 "Write e.g. app.ports = [8080, 9090]."));
      for (const toml::node& item : *list) {
        Result<int> port = read_port(item, "app.ports");
        if (!port) return fail(port.error());
        config.ports.push_back(Finding<int>{*port, Origin::kConfig, config_evidence(item, "app.ports")});
      }
    } else if (key == "web_service") {
      const auto* flag = node.as_boolean();
      if (!flag)
        return fail(config_error(line_of_node(node), "invalid value for app.web_service: expected true or false.",
                                 "Write app.web_service = false for a worker."));
      config.web_service = Finding<bool>{flag->get(), Origin::kConfig, config_evidence(node, "app.web_service")};
    } else if (key == "services") {
      if (Status status = read_services(node, config); !status) return status;
    } else {
      return fail(config_error(
          static_cast<int>(key_name.source().begin.line), "unknown key 'app." + key + "'.",
          "Valid keys in [app]: " + join(kAppStringKeys) + ", " + join(kAppOtherKeys) + ". See docs/analysis.md."));
    }
  }
  return ok_unit();
}

Status read_env_table(const toml::table& env, ConfigOverrides& config) {
  for (const auto& [key_name, node] : env) {
    std::string key(key_name.str());
    if (!contains(kEnvKeys, key)) {
      return fail(config_error(static_cast<int>(key_name.source().begin.line), "unknown key 'env." + key + "'.",
                               "Valid keys in [env]: " + join(kEnvKeys) + "."));
    }
    const auto* list = node.as_array();
    if (!list)
      return fail(config_error(line_of_node(node), "invalid value for env." + key + ": expected an array of names.",
                               "Write e.g. env." + key + " = [\"SECRET_KEY\"]."));
    for (const toml::node& item : *list) {
      const auto* name = item.as_string();
      if (!name || name->get().empty()) {
        return fail(config_error(line_of_node(item), "invalid variable name in env." + key + ".",
                                 "Write each name as a quoted string."));
      }
      EnvVar variable;
      variable.name = name->get();
      variable.required = key == "required";
      variable.origin = Origin::kConfig;
      variable.evidence.push_back(config_evidence(item, "env." + key));
      config.env_vars.push_back(variable);
    }
  }
  return ok_unit();
}

Status read_document(const toml::table& document, ConfigOverrides& config) {
  for (const auto& [key_name, node] : document) {
    std::string key(key_name.str());
    int line = static_cast<int>(key_name.source().begin.line);
    if ((key == "app" || key == "env") && !node.is_table()) {
      return fail(config_error(line, "'" + key + "' must be a table.", "Write it as a [" + key + "] section."));
    }
    if (key == "app") {
      if (Status status = read_app_table(*node.as_table(), config); !status) return status;
    } else if (key == "env") {
      if (Status status = read_env_table(*node.as_table(), config); !status) return status;
    } else {
      return fail(config_error(line, "unknown key '" + key + "'.",
                               "hivemind.toml has two sections, [app] and [env]. See docs/analysis.md."));
    }
  }
  return ok_unit();
}

template <typename T>
void override_optional(const std::optional<Finding<T>>& from, std::optional<Finding<T>>& to) {
  if (from) to = from;
}

}  // namespace

Result<ConfigOverrides> read_config(const std::filesystem::path& path) {
  ConfigOverrides config;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return config;

  std::ifstream stream(path, std::ios::binary);
  std::stringstream buffer;
  buffer << stream.rdbuf();
  toml::table document;
  try {
    std::string text = buffer.str();
    document = toml::parse(std::string_view(text), std::string_view(kConfigFile));
  } catch (const toml::parse_error& parse_error) {
    return fail(config_error(static_cast<int>(parse_error.source().begin.line),
                             "invalid TOML: " + std::string(parse_error.description()) + ".",
                             "Fix the syntax; see docs/analysis.md for the keys."));
  }

  if (Status status = read_document(document, config); !status) return fail(status.error());
  return config;
}

void apply_config(const ConfigOverrides& config, Analysis& analysis) {
  if (config.language) analysis.language = *config.language;
  override_optional(config.runtime_version, analysis.runtime_version);
  override_optional(config.framework, analysis.framework);
  override_optional(config.package_manager, analysis.package_manager);
  override_optional(config.install_command, analysis.install_command);
  override_optional(config.build_command, analysis.build_command);
  override_optional(config.start_command, analysis.start_command);
  if (config.health_check_path) analysis.health_check_path = *config.health_check_path;
  if (!config.ports.empty()) analysis.ports = config.ports;
  if (config.web_service) {
    analysis.web_service = *config.web_service;
    if (!config.web_service->value && config.ports.empty()) analysis.ports.clear();
  }

  if (config.services_set) {
    analysis.services.clear();
    for (const auto& [kind, evidence] : config.services) {
      auto existing = std::find_if(analysis.services.begin(), analysis.services.end(),
                                   [kind = kind](const BackingService& s) { return s.kind == kind; });
      if (existing == analysis.services.end())
        analysis.services.push_back(BackingService{kind, Origin::kConfig, {evidence}});
    }
    std::sort(analysis.services.begin(), analysis.services.end(),
              [](const BackingService& a, const BackingService& b) { return a.kind < b.kind; });
  }

  for (const EnvVar& configured : config.env_vars) {
    auto existing = std::find_if(analysis.env_vars.begin(), analysis.env_vars.end(),
                                 [&](const EnvVar& v) { return v.name == configured.name; });
    if (existing == analysis.env_vars.end()) {
      analysis.env_vars.push_back(configured);
      continue;
    }
    existing->required = configured.required;
    existing->origin = Origin::kConfig;
    existing->evidence.insert(existing->evidence.begin(), configured.evidence.front());
  }
  std::sort(analysis.env_vars.begin(), analysis.env_vars.end(),
            [](const EnvVar& a, const EnvVar& b) { return a.name < b.name; });
}

}  // namespace hivemind::repo::detail
