// The All-Seeing Eye's stage: the deployment's dashboard and alarms, and in
// the sandbox a first shipment of the app's log and host metrics, which the
// CloudWatch agent would send on AWS.

#include <fmt/format.h>

#include "common/log.h"
#include "conductor/stages.h"
#include "monitor/setup.h"
#include "monitor/shipper.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAgent = "All-Seeing Eye";

void ship_sandbox_logs(StageContext& context, const monitor::MonitoredResources& resources) {
  if (context.target != Target::kSandbox || resources.instance_id.empty() || resources.log_group.empty()) return;
  monitor::ShipTarget target;
  target.log_group = resources.log_group;
  target.stream_name = resources.instance_id;
  target.instance_id = resources.instance_id;
  target.log_file = monitor::sandbox_log_path(context.state_dir, resources.instance_id, context.deployment.app_name);
  target.emulate_ec2_cpu = true;
  monitor::ShipperState state;
  auto shipped = monitor::ship_once(*context.client, target, state);
  // The dashboard works without this first shipment, so a failure is only logged.
  if (!shipped)
    log::get("monitor")->warn("shipping {} failed: {}", target.log_file.string(), shipped.error().describe());
}

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
  ship_sandbox_logs(context, *resources);
  context.emit({ConductorEvent::Kind::kNote, state::StageName::monitor, kAgent,
                fmt::format("dashboard {} with {} alarms", setup->dashboard_url, setup->alarm_names.size())});
  return ok_unit();
}

}  // namespace hivemind::conductor
