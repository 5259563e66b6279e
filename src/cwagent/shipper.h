#pragma once

// A stand-in for the CloudWatch agent where none runs (the sandbox): it
// sends the new lines of one log file to a log group and, when asked,
// publishes the host metrics that the agent would (memory and disk use, CPU
// too with emulate_ec2_cpu). What to ship comes from the agent's own
// configuration (agent_config.h).
//
// Caller: the sandbox daemon on each pass, for every file of every host. On
// AWS the agent does this job and nothing calls the shipper.
//
// Thread safety: one ShipperState per log file; calls for one file must not
// overlap.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "aws/client.h"
#include "common/result.h"

namespace hivemind::cwagent {

// Progress through one log file, kept by the caller between calls.
struct ShipperState {
  std::uintmax_t offset = 0;  // bytes of the file already sent
  // /proc/stat totals at the previous call, for the CPU use between calls.
  std::optional<std::uint64_t> cpu_total;
  std::optional<std::uint64_t> cpu_idle;
};

struct ShipTarget {
  std::string log_group;    // "/hivemind/<id>"
  std::string stream_name;  // e.g. "<instance id>/app"
  std::string instance_id;  // the metrics' InstanceId dimension
  std::filesystem::path log_file;
  // Namespace of mem_used_percent and disk_used_percent. Empty: this call
  // publishes no metrics.
  std::string metrics_namespace;
  // Publish CPUUtilization into "AWS/EC2" as well, which only an emulator
  // accepts: on AWS that namespace is reserved for AWS itself.
  bool emulate_ec2_cpu = false;
};

struct ShipResult {
  int lines_sent = 0;
  int metrics_sent = 0;
};

// Sends the complete lines added since state.offset (a file that shrank is
// read again from the start), then the metrics when target.metrics_namespace
// is set. Creates the stream when it is missing. A missing file sends no
// lines and is not an error.
Result<ShipResult> ship_once(aws::AwsClient& client, const ShipTarget& target, ShipperState& state);

// Memory in use as a percentage, from the text of /proc/meminfo
// (MemTotal and MemAvailable), or nothing when either is missing.
std::optional<double> memory_used_percent(const std::string& meminfo);

}  // namespace hivemind::cwagent
