#pragma once

// How the lifecycle commands show deployments: the live progress of a
// running Conductor, the outcome of a deployment, and its JSON form.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/ui.h"
#include "conductor/stage_context.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::cli {

// Turns Conductor events into progress lines: the deployment id as soon as
// it exists, the current agent and action, a spinner for waits, and a check
// mark per finished stage with its duration. `on_created` receives the new
// deployment's id (used to move the log next to the deployment).
conductor::ConductorEventSink progress_printer(Ui& ui, std::function<void(const std::string&)> on_created);

// Sum of the resources' estimated monthly costs, skipping deleted ones.
double monthly_cost_usd(const std::vector<state::Resource>& resources);

// Prints what failed and what to do next: the stage, agent, action, AWS
// request id, message, and whether the resources were rolled back or kept.
void print_failure(Ui& ui, const state::Deployment& deployment);

// The outcome of a deployment as JSON: id, status, failure, attributes,
// resources and their total monthly cost.
nlohmann::json deployment_json(const state::Store& store, const state::Deployment& deployment);

// The age of a time point, e.g. "5m", "3h", "2d".
std::string format_age(state::TimePoint time);

}  // namespace hivemind::cli
