#pragma once

// The deploy stage with its settings made explicit, for tests and for
// callers that need other folders or bounds than run_deploy()'s defaults.

#include <chrono>
#include <string>

#include "common/result.h"
#include "conductor/stage_context.h"
#include "conductor/stages.h"
#include "remote/scripts.h"

namespace hivemind::conductor {

// Settings of the deploy stage: the install folder and the bounds of its waits.
struct DeploySettings {
  // The folder on the host that holds /<app>/releases, current, shared...;
  // the user data of the instance creates /opt/hivemind/<app> for ec2-user.
  std::string base_folder = std::string(remote::kDefaultBaseFolder);
  // The sandbox adds a host to its address map a few seconds after moto
  // reports the instance running.
  std::chrono::seconds address_map{120};
  // An EC2 instance usually accepts SSH within a minute of running (an
  // estimate); these defaults allow about five minutes.
  std::chrono::milliseconds ssh_connect{10'000};
  int ssh_attempts = 20;
  std::chrono::milliseconds ssh_retry_delay{5'000};
  std::chrono::seconds listen{90};
  // With the default health check (2 passes, 15 s apart) a target needs at
  // least 30 s to become healthy.
  std::chrono::seconds target_health{300};
  std::chrono::milliseconds poll_interval{5'000};
  // The instance to deploy onto, by logical name, and whether the release
  // becomes the serving one: recorded as the deployment's release and SSH
  // command, and registered in the target group. A blue-green update deploys
  // onto its new instance with `serve` off and switches the load balancer
  // itself.
  std::string instance_resource = "instance";
  bool serve = true;
};

Status run_deploy_with(StageContext& context, const DeploySettings& settings);
Status stop_app_with(StageContext& context, const DeploySettings& settings);

// Waits until the target group reports `instance_id` healthy and, in the
// sandbox, until the load balancer's proxy reports it up, both bounded by
// settings.target_health.
Status wait_target_serving(StageContext& context, const std::string& target_group_arn, const std::string& instance_id,
                           const DeploySettings& settings);

// Records the host of settings.instance_resource as the deployment's serving
// one: its address, its SSH command and `version` as the running release.
Status record_serving_host(StageContext& context, const std::string& version, const DeploySettings& settings);

}  // namespace hivemind::conductor
