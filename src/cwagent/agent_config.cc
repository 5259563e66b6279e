#include "cwagent/agent_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace hivemind::cwagent {
namespace {

using nlohmann::json;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

Error invalid(const std::string& what) {
  return make_error("cwagent.invalid_config", "Invalid CloudWatch agent configuration: " + what + ".",
                    "Check the configuration that the instance's user data writes.");
}

Status read_files(const json& config, const std::string& instance_id, AgentConfig& parsed) {
  const json* list = &config;
  for (const char* key : {"logs", "logs_collected", "files", "collect_list"}) {
    if (!list->is_object() || !list->contains(key)) return ok_unit();
    list = &(*list)[key];
  }
  if (!list->is_array()) return fail(invalid("collect_list is not a list"));
  for (const json& entry : *list) {
    if (!entry.is_object() || !entry.value("file_path", json()).is_string() ||
        !entry.value("log_group_name", json()).is_string()) {
      return fail(invalid("a collect_list entry lacks file_path or log_group_name"));
    }
    CollectedFile file;
    file.file_path = entry["file_path"].get<std::string>();
    file.log_group_name = entry["log_group_name"].get<std::string>();
    std::string stream = entry.value("log_stream_name", std::string("{instance_id}"));
    file.log_stream_name = replace_all(stream, "{instance_id}", instance_id);
    parsed.files.push_back(std::move(file));
  }
  return ok_unit();
}

void read_metrics(const json& config, AgentConfig& parsed) {
  if (config.contains("agent") && config["agent"].is_object()) {
    int interval = config["agent"].value("metrics_collection_interval", 60);
    if (interval > 0) parsed.metrics_interval = std::chrono::seconds(interval);
  }
  if (!config.contains("metrics") || !config["metrics"].is_object()) return;
  const json& metrics = config["metrics"];
  // The agent's own default namespace when the file names none.
  parsed.metrics_namespace = metrics.value("namespace", std::string("CWAgent"));
  if (metrics.contains("metrics_collected") && metrics["metrics_collected"].is_object()) {
    parsed.memory = metrics["metrics_collected"].contains("mem");
    parsed.disk = metrics["metrics_collected"].contains("disk");
  }
}

}  // namespace

Result<AgentConfig> parse_agent_config(const std::string& json_text, const std::string& instance_id) {
  json config = json::parse(json_text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return fail(invalid("the text is not a JSON object"));
  AgentConfig parsed;
  if (Status files = read_files(config, instance_id, parsed); !files) return fail(files.error());
  read_metrics(config, parsed);
  return parsed;
}

std::optional<std::string> agent_config_in_user_data(const std::string& user_data) {
  // The opening line: "cat > ...amazon-cloudwatch-agent.json <<'WORD'" (or
  // <<WORD or <<"WORD"), and the body ends at a line that is WORD alone.
  size_t file = user_data.find("amazon-cloudwatch-agent.json <<");
  if (file == std::string::npos) return std::nullopt;
  size_t word_start = file + std::string("amazon-cloudwatch-agent.json <<").size();
  size_t line_end = user_data.find('\n', word_start);
  if (line_end == std::string::npos) return std::nullopt;
  std::string word = user_data.substr(word_start, line_end - word_start);
  std::erase_if(word, [](char c) { return c == '\'' || c == '"' || c == ' ' || c == '-'; });
  if (word.empty()) return std::nullopt;

  size_t body = line_end + 1;
  size_t end = user_data.find("\n" + word + "\n", line_end);
  if (end == std::string::npos) return std::nullopt;
  return user_data.substr(body, end + 1 - body);
}

}  // namespace hivemind::cwagent
