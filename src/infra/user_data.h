#pragma once

#include <string>

#include "infra/plan.h"

namespace hivemind::infra {

// Returns the cloud-init shell script that prepares an Amazon Linux 2023
// host: the app's runtime, the release folders of the deploy user, SSH
// password login off, and the CloudWatch agent shipping the app's log and the
// system log to the deployment's log group. It contains no secret: the
// deployer writes the environment file over SSH.
std::string build_user_data(const PlanInputs& inputs, const std::string& log_group_name);

}  // namespace hivemind::infra
