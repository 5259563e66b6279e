#pragma once

// The CloudWatch dashboard and alarms of one deployment, built as plain data
// by pure functions so that tests compare them exactly. setup.h sends them.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/cloudwatch.h"

namespace hivemind::monitor {

// Namespace of the metrics that the CloudWatch agent (or the shipper in
// shipper.h) publishes: memory and disk, which EC2 does not measure itself.
inline constexpr const char* kAgentNamespace = "HiveMind";

// The deployment's resources that the dashboard and alarms watch. An empty
// field leaves out the widgets and alarms of that resource.
struct MonitoredResources {
  std::string deployment_id;
  std::string region;
  std::string instance_id;
  // The ALB's ARN suffix "app/<name>/<id>", as CloudWatch's LoadBalancer
  // dimension spells it, and the target group's "targetgroup/<name>/<id>".
  std::string load_balancer;
  std::string target_group;
  std::string target_group_arn;  // the whole ARN, for DescribeTargetHealth
  std::string db_instance_id;
  std::string log_group;  // "/hivemind/<id>"
};

// "hivemind-<id>"
std::string dashboard_name(const std::string& deployment_id);

// The console address of the dashboard.
std::string dashboard_url(const std::string& region, const std::string& name);

// Returns the part of an ELBv2 ARN after "loadbalancer/" or the part from
// "targetgroup/" on, which CloudWatch uses as the dimension value; the input
// unchanged when it has neither.
std::string arn_dimension(const std::string& arn);

// The dashboard body: EC2 CPU, network and disk, agent memory and disk; ALB
// requests, latency, 5xx and healthy hosts; RDS CPU, connections and free
// storage; a log widget with the latest error lines.
nlohmann::json dashboard_body(const MonitoredResources& resources);

// The alarms: unhealthy targets, 5xx count, high CPU, low database storage.
// Each is named "hivemind-<id>-<check>", with a check name of letters and
// '_' only, so that discovery can split the name.
std::vector<aws::cloudwatch::Alarm> alarm_specs(const MonitoredResources& resources);

}  // namespace hivemind::monitor
