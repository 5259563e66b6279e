#pragma once

// The stages after provision, each run by its agent, and the table the CLI
// hands to the Conductor. Each stage lives in its own stage_<name>.cc file.

#include <map>

#include "common/result.h"
#include "conductor/stage_context.h"
#include "state/model.h"

namespace hivemind::conductor {

// Returns every stage function this build has, by stage name. A stage
// missing here makes the Conductor fail the deployment with a clear error.
std::map<state::StageName, StageFunction> available_stages();

// Dan the Deployer (stage_deploy.cc): installs the artifact on the instance
// over SSH, starts it and registers the instance in the target group.
Status run_deploy(StageContext& context);
// Stops the app on the instance before a teardown; ConductorSetup::stop_app.
Status stop_app(StageContext& context);

// Creates the dashboard and alarms (stage_monitor.cc).
Status run_monitor(StageContext& context);
// Writes <state_dir>/<id>/report/report.txt from state (stage_report.cc).
Status run_report(StageContext& context);

// Shawn the Sheriff (stage_secure.cc): hardens sshd and checks the
// deployment against docs/SECURITY-RULES.md.
Status run_secure(StageContext& context);
// Overwatch (stage_verify.cc): checks the app, the load balancer, TLS and
// the database login, and stores each result.
Status run_verify(StageContext& context);

}  // namespace hivemind::conductor
