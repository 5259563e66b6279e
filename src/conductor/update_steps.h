#pragma once

// The steps of `hivemind update` that talk to the instances and the load
// balancer. update.cc contains their order, and these functions only do one step
// each and return what failed. In the sandbox every address comes from the
// address map, as in the verify stage.

#include <chrono>
#include <string>

#include "common/result.h"
#include "conductor/stage_context.h"

namespace hivemind::conductor {

// The logical name of the new instance while a blue-green update runs. Once
// the load balancer has switched, it takes over the name "instance".
inline constexpr const char* kGreenInstance = "instance_green";

// Polls the app on one instance at the health check path until it returns
// HTTP 200 or `timeout` passes. In the sandbox it sends the request to the
// host's mapped address. On AWS it runs curl on the host over SSH, because
// the app's security group admits only the load balancer.
Status check_instance_health(StageContext& context, const std::string& instance_resource, std::chrono::seconds timeout);

// Polls the health check path through the load balancer's listener until it
// returns HTTP 200 or `timeout` passes. Succeeds at once without a load
// balancer.
Status check_load_balancer_health(StageContext& context, std::chrono::seconds timeout);

Status register_target(StageContext& context, const std::string& target_group_arn, const std::string& instance_id);

// Deregisters the instance and waits until the load balancer has stopped
// sending it requests. On AWS that is when the target leaves `draining`, which
// lasts the target group's deregistration delay. In the sandbox it is also
// when the proxy no longer lists it. Gives up after `timeout`.
Status deregister_and_drain(StageContext& context, const std::string& target_group_arn, const std::string& instance_id,
                            std::chrono::seconds timeout);

// Points `current` on the serving instance back at `version`, an installed
// release, and restarts the app.
Status activate_previous_release(StageContext& context, const std::string& version, const std::string& base_folder);

// Returns the release that `current` points to on the serving instance.
Result<std::string> current_release(StageContext& context, const std::string& base_folder);

}  // namespace hivemind::conductor
