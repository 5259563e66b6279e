// The All-Seeing Eye's stage: the deployment's dashboard and alarms. The
// logs and host metrics come from the CloudWatch agent that the user data
// configures on AWS, and from the sandbox daemon's stand-in for it.

#include <fmt/format.h>

#include "conductor/stages.h"
#include "monitor/setup.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAgent = "All-Seeing Eye";

}  // namespace

Status run_monitor(StageContext& context) {
  const std::string& id = context.deployment.id;
  context.emit({ConductorEvent::Kind::kProgress, state::StageName::monitor, kAgent, "creating dashboard and alarms"});
  auto resources = monitor::monitored_resources(*context.store, id, context.deployment.region);
  if (!resources) return fail(resources.error());

  auto setup = monitor::set_up_monitoring(*context.client, *context.store, *resources);
  if (!setup) {
    context.failure = state::FailureInfo{kAgent, "cloudwatch:PutDashboard/PutMetricAlarm", "", setup.error().message};
    return fail(setup.error());
  }
  context.emit({ConductorEvent::Kind::kNote, state::StageName::monitor, kAgent,
                fmt::format("dashboard {} with {} alarms", setup->dashboard_url, setup->alarm_names.size())});
  return ok_unit();
}

}  // namespace hivemind::conductor
