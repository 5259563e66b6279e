#pragma once

// Creates and records a deployment's dashboard and alarms. Each is recorded
// in state before its call (kinds "cloudwatch:dashboard" and
// "cloudwatch:alarm") so that rollback and destroy delete it.

#include <string>

#include "aws/client.h"
#include "common/result.h"
#include "monitor/dashboard.h"
#include "state/store.h"

namespace hivemind::monitor {

// Reads the instance, load balancer, target group, database and log group
// of the deployment from state; missing ones stay empty.
Result<MonitoredResources> monitored_resources(const state::Store& store, const std::string& deployment_id,
                                               const std::string& region);

// What set_up_monitoring() created.
struct MonitoringSetup {
  std::string dashboard_name;
  std::string dashboard_url;
  std::vector<std::string> alarm_names;
};

// Puts the dashboard and the alarms (tagged with the deployment), records
// them in state and stores attribute "dashboard_url". Calling it again
// updates both in place.
Result<MonitoringSetup> set_up_monitoring(aws::AwsClient& client, state::Store& store,
                                          const MonitoredResources& resources);

}  // namespace hivemind::monitor
