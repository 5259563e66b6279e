#include "sandbox/log_shipping.h"

#include <fmt/format.h>

#include "aws/ec2.h"
#include "common/log.h"
#include "cwagent/agent_config.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOptFolder = "/opt/hivemind/";
constexpr std::string_view kLogFolder = "/var/log/";

// DescribeInstanceAttribute userData, decoded; empty when the instance has none.
aws::AwsResult<std::string> read_user_data(aws::AwsClient& client, const std::string& instance_id) {
  auto response = client.query(aws::ec2_service(), "DescribeInstanceAttribute",
                               {{"InstanceId", instance_id}, {"Attribute", "userData"}});
  if (!response) return fail(std::move(response).error());
  std::string encoded = response->result.child("userData").child("value").text().as_string();
  if (encoded.empty()) return std::string();
  std::optional<std::string> decoded = aws::ec2::base64_decode(encoded);
  return decoded.value_or(std::string());
}

}  // namespace

std::optional<fs::path> host_file(const SandboxPaths& paths, const std::string& instance_id,
                                  const std::string& agent_path) {
  if (agent_path.starts_with(kOptFolder)) {
    fs::path relative = fs::path(agent_path.substr(kOptFolder.size())).lexically_normal();
    if (relative.empty() || *relative.begin() == "..") return std::nullopt;
    return paths.host_dir(instance_id) / "opt" / relative;
  }
  if (agent_path.starts_with(kLogFolder)) return paths.host_dir(instance_id) / "sshd.log";
  return std::nullopt;
}

HostLogShipping::HostLogShipping(SandboxPaths paths, aws::AwsClient& client)
    : paths_(std::move(paths)), client_(client) {}

Result<HostLogShipping::HostShipping> HostLogShipping::configure(const std::string& instance_id) {
  auto logger = log::get("sandbox");
  auto user_data = read_user_data(client_, instance_id);
  if (!user_data) return fail(user_data.error().to_error());

  HostShipping host;
  std::optional<std::string> text = cwagent::agent_config_in_user_data(*user_data);
  if (!text) {
    logger->info("instance {} has no CloudWatch agent configuration in its user data; shipping nothing", instance_id);
    return host;
  }
  auto config = cwagent::parse_agent_config(*text, instance_id);
  if (!config) return fail(config.error());

  for (const cwagent::CollectedFile& collected : config->files) {
    std::optional<fs::path> file = host_file(paths_, instance_id, collected.file_path);
    if (!file) {
      logger->warn("instance {}: the sandbox has no stand-in for {}; not shipping it", instance_id,
                   collected.file_path);
      continue;
    }
    cwagent::ShipTarget target;
    target.log_group = collected.log_group_name;
    target.stream_name = collected.log_stream_name;
    target.instance_id = instance_id;
    target.log_file = *file;
    host.files.push_back({target, {}});
    logger->info("instance {}: shipping {} ({}) to {} stream {}", instance_id, collected.file_path, file->string(),
                 collected.log_group_name, collected.log_stream_name);
  }
  host.metrics_namespace = config->metrics_namespace;
  host.metrics_interval = config->metrics_interval;
  return host;
}

Status HostLogShipping::ship_host(HostShipping& host) {
  auto now = std::chrono::steady_clock::now();
  bool metrics_due =
      !host.metrics_namespace.empty() && (!host.last_metrics || now - *host.last_metrics >= host.metrics_interval);
  Status result = ok_unit();
  for (size_t index = 0; index < host.files.size(); ++index) {
    ShippedFile& file = host.files[index];
    cwagent::ShipTarget target = file.target;
    // The host metrics go with the first file only, once per interval.
    if (index == 0 && metrics_due) {
      target.metrics_namespace = host.metrics_namespace;
      target.emulate_ec2_cpu = true;  // moto has no CPU figures of its own
    }
    auto shipped = cwagent::ship_once(client_, target, file.state);
    if (!shipped && result) result = fail(shipped.error());
  }
  if (metrics_due) host.last_metrics = now;
  return result;
}

Status HostLogShipping::ship(const std::map<std::string, HostEntry>& hosts) {
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    it = hosts.count(it->first) == 0 ? hosts_.erase(it) : std::next(it);
  }

  Status result = ok_unit();
  for (const auto& [instance_id, entry] : hosts) {
    auto known = hosts_.find(instance_id);
    if (known == hosts_.end()) {
      Result<HostShipping> configured = configure(instance_id);
      if (!configured) {
        if (result) result = fail(configured.error());
        continue;  // read the configuration again on the next call
      }
      known = hosts_.emplace(instance_id, std::move(*configured)).first;
    }
    Status shipped = ship_host(known->second);
    if (!shipped && result) {
      Error error = shipped.error();
      error.message = fmt::format("Shipping the logs of instance {} failed: {}", instance_id, error.message);
      result = fail(std::move(error));
    }
  }
  return result;
}

}  // namespace hivemind::sandbox
