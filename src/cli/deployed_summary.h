#pragma once

// What deploy and retry print once a deployment is up, from the deployment's
// JSON view (deployment_json), so that both commands show the same lines.

#include <nlohmann/json.hpp>
#include <string>

#include "cli/ui.h"

namespace hivemind::cli {

// Adds `sandbox_url`, the local address of the sandbox load balancer, to the
// JSON view of a sandbox deployment when the address map of `state_dir`
// contains its `url`. Leaves other views unchanged.
void add_sandbox_url(nlohmann::json& view, const std::string& state_dir);

// Prints the URL (for a sandbox deployment, the local address first), the
// SSH command, the monthly cost estimate and the report path of `view`.
void print_deployed(Ui& ui, const nlohmann::json& view, const std::string& state_dir);

}  // namespace hivemind::cli
