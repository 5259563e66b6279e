#include "infra/user_data.h"

#include <fmt/format.h>

#include <cctype>

namespace hivemind::infra {
namespace {

// Extracts the major version from a constraint such as ">=20", "^18.2" or
// "3.12"; returns an empty string when there is none.
std::string major_version(const std::string& constraint) {
  std::string digits;
  for (char c : constraint) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (!digits.empty()) {
      break;
    }
  }
  return digits;
}

// Amazon Linux 2023 ships Node.js 18, 20 and 22 as nodejs<major> packages.
std::string runtime_install(const PlanInputs& inputs) {
  if (inputs.runtime == "node") {
    std::string major = major_version(inputs.runtime_version);
    if (major != "18" && major != "20" && major != "22") major = "20";
    return fmt::format(
        "dnf install -y nodejs{0} nodejs{0}-npm\n"
        "alternatives --set node /usr/bin/node-{0} 2>/dev/null || true\n",
        major);
  }
  if (inputs.runtime == "python") return "dnf install -y python3 python3-pip\n";
  if (inputs.runtime == "ruby") return "dnf install -y ruby ruby-devel\n";
  if (inputs.runtime == "java") return "dnf install -y java-21-amazon-corretto-headless\n";
  if (inputs.runtime == "php") return "dnf install -y php-cli php-fpm\n";
  return "# The app ships a self-contained binary or static files: no runtime to install.\n";
}

}  // namespace

std::string build_user_data(const PlanInputs& inputs, const std::string& log_group_name) {
  std::string app_root = fmt::format("/opt/hivemind/{}", inputs.app_name);
  return fmt::format(R"(#!/bin/bash
# Prepared by HiveMind for app {app}, deployment {deployment}.
set -euo pipefail

dnf install -y tar gzip amazon-cloudwatch-agent
{runtime}
install -d -o ec2-user -g ec2-user {root} {root}/releases {root}/logs

# SSH: keys only.
sed -i -E 's/^#?PasswordAuthentication .*/PasswordAuthentication no/' /etc/ssh/sshd_config
systemctl reload sshd

# Ship the app log and the host preparation log to CloudWatch Logs.
cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<'AGENT'
{{
  "logs": {{
    "logs_collected": {{
      "files": {{
        "collect_list": [
          {{"file_path": "{root}/logs/app.log", "log_group_name": "{group}", "log_stream_name": "{{instance_id}}/app"}},
          {{"file_path": "/var/log/cloud-init-output.log", "log_group_name": "{group}", "log_stream_name": "{{instance_id}}/system"}}
        ]
      }}
    }}
  }},
  "metrics": {{
    "namespace": "HiveMind",
    "append_dimensions": {{"InstanceId": "${{aws:InstanceId}}"}},
    "metrics_collected": {{
      "mem": {{"measurement": ["mem_used_percent"]}},
      "disk": {{"measurement": ["used_percent"], "resources": ["/"]}}
    }}
  }}
}}
AGENT
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json
)",
                     fmt::arg("app", inputs.app_name), fmt::arg("deployment", inputs.deployment_id),
                     fmt::arg("runtime", runtime_install(inputs)), fmt::arg("root", app_root),
                     fmt::arg("group", log_group_name));
}

}  // namespace hivemind::infra
