#pragma once

// The part of the CloudWatch agent's configuration file that HiveMind
// writes: the log files to collect with their log group and stream, and the
// host metrics' namespace. Where no agent runs, the shipper (shipper.h)
// follows it. On AWS the file reaches the agent through the instance's user
// data (src/infra/user_data.cc). The sandbox reads it back from the same
// user data, so one configuration drives both.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::cwagent {

// One entry of logs.logs_collected.files.collect_list.
struct CollectedFile {
  std::string file_path;        // as on the host, e.g. /opt/hivemind/shop/logs/app.log
  std::string log_group_name;   // "/hivemind/<id>"
  std::string log_stream_name;  // with "{instance_id}" replaced
};

struct AgentConfig {
  std::vector<CollectedFile> files;
  std::string metrics_namespace;              // empty: the configuration collects no metrics
  bool memory = false;                        // metrics_collected.mem
  bool disk = false;                          // metrics_collected.disk
  std::chrono::seconds metrics_interval{60};  // agent.metrics_collection_interval, 60 s when absent
};

// Parses the agent's JSON configuration, replacing the placeholder
// "{instance_id}" in stream names with `instance_id` as the agent does.
// Fails on text that is not JSON or a collect_list entry without file_path
// or log_group_name; other sections are ignored.
Result<AgentConfig> parse_agent_config(const std::string& json_text, const std::string& instance_id);

// Returns the configuration file's text from a user data script that writes
// amazon-cloudwatch-agent.json with a here-document, as
// infra::build_user_data() does. Returns nothing when the script has none.
std::optional<std::string> agent_config_in_user_data(const std::string& user_data);

}  // namespace hivemind::cwagent
