#pragma once

// The sandbox's stand-in for the CloudWatch agent on each host. It reads
// the agent's configuration from the instance's user data in moto, which is
// the same file that the agent receives on AWS, and maps the configured
// file paths onto the host's folder. Each call sends the files' new lines
// to their log group, and the host metrics once per metrics interval.
//
// Path mapping: /opt/hivemind/... is the host's own opt folder (the
// folder bind-mounted there inside the host). A sandbox host has no init
// system or syslog; its only system service is sshd, so any /var/log/...
// path is read from the host's sshd.log. Other paths are skipped.
//
// Not thread safe: the daemon's loop owns one HostLogShipping.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "common/result.h"
#include "cwagent/shipper.h"
#include "sandbox/address_map.h"
#include "sandbox/paths.h"

namespace hivemind::sandbox {

// The host file behind a path of the agent's configuration, or nothing when
// the sandbox has no stand-in for it.
std::optional<std::filesystem::path> host_file(const SandboxPaths& paths, const std::string& instance_id,
                                               const std::string& agent_path);

class HostLogShipping {
 public:
  HostLogShipping(SandboxPaths paths, aws::AwsClient& client);

  // Ships for every host in `hosts` and drops hosts no longer there. A
  // failure of one host is returned after the others were handled; its
  // unsent lines are sent on a later call.
  Status ship(const std::map<std::string, HostEntry>& hosts);

 private:
  struct ShippedFile {
    cwagent::ShipTarget target;
    cwagent::ShipperState state;
  };
  struct HostShipping {
    std::vector<ShippedFile> files;
    std::string metrics_namespace;
    std::chrono::seconds metrics_interval{60};
    std::optional<std::chrono::steady_clock::time_point> last_metrics;
  };

  Result<HostShipping> configure(const std::string& instance_id);
  Status ship_host(HostShipping& host);

  SandboxPaths paths_;
  aws::AwsClient& client_;
  std::map<std::string, HostShipping> hosts_;  // by instance id
};

}  // namespace hivemind::sandbox
