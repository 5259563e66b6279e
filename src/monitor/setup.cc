#include "monitor/setup.h"

#include <fmt/format.h>

#include "common/log.h"

namespace hivemind::monitor {
namespace {

// The value of `logical_name`'s physical id or ARN, empty when the resource
// is missing or was not created.
std::string created_id(const std::vector<state::Resource>& resources, const std::string& logical_name,
                       bool want_arn = false) {
  for (const state::Resource& resource : resources) {
    if (resource.logical_name != logical_name || resource.status != state::ResourceStatus::created) continue;
    return want_arn && !resource.arn.empty() ? resource.arn : resource.physical_id;
  }
  return "";
}

Error aws_failure(const aws::AwsError& error, const std::string& what) {
  Error converted = error.to_error();
  converted.message = fmt::format("Creating {} failed: {}", what, converted.message);
  return converted;
}

// Records the intent, runs `call`, then records the outcome.
Status record_around(state::Store& store, const std::string& deployment_id, const std::string& logical_name,
                     const std::string& kind, const std::string& name, const std::string& arn,
                     const std::function<aws::AwsResult<Unit>()>& call) {
  state::ResourceIntent intent;
  intent.deployment_id = deployment_id;
  intent.logical_name = logical_name;
  intent.kind = kind;
  Result<state::Resource> recorded = store.record_intent(intent);
  if (!recorded) return fail(recorded.error());

  aws::AwsResult<Unit> sent = call();
  if (!sent) {
    Error error = aws_failure(sent.error(), name);
    Status marked = store.record_create_failed(deployment_id, logical_name, error.describe());
    if (!marked) return marked;
    return fail(error);
  }
  return store.record_created(deployment_id, logical_name, name, arn, "{}");
}

aws::Tags deployment_tags(const std::string& deployment_id, const std::string& logical_name) {
  return {{"hivemind:deployment", deployment_id}, {"hivemind:resource", logical_name}};
}

}  // namespace

Result<MonitoredResources> monitored_resources(const state::Store& store, const std::string& deployment_id,
                                               const std::string& region) {
  Result<std::vector<state::Resource>> resources = store.resources(deployment_id);
  if (!resources) return fail(resources.error());

  MonitoredResources watched;
  watched.deployment_id = deployment_id;
  watched.region = region;
  watched.instance_id = created_id(*resources, "instance");
  watched.load_balancer = arn_dimension(created_id(*resources, "load_balancer", true));
  watched.target_group_arn = created_id(*resources, "target_group", true);
  watched.target_group = arn_dimension(watched.target_group_arn);
  watched.db_instance_id = created_id(*resources, "database");
  watched.log_group = created_id(*resources, "log_group");
  return watched;
}

Result<MonitoringSetup> set_up_monitoring(aws::AwsClient& client, state::Store& store,
                                          const MonitoredResources& resources) {
  const std::string& id = resources.deployment_id;
  MonitoringSetup setup;
  setup.dashboard_name = dashboard_name(id);
  setup.dashboard_url = dashboard_url(resources.region, setup.dashboard_name);

  // Dashboards take no tags, so state and the name are how they are found.
  std::string body = dashboard_body(resources).dump();
  std::vector<std::string> messages;
  Status dashboard = record_around(store, id, "dashboard", "cloudwatch:dashboard", setup.dashboard_name, "", [&] {
    auto put = aws::cloudwatch::put_dashboard(client, setup.dashboard_name, body);
    if (!put) return aws::AwsResult<Unit>(fail(put.error()));
    messages = *put;
    return aws::AwsResult<Unit>(ok_unit());
  });
  if (!dashboard) return fail(dashboard.error());
  for (const std::string& message : messages)
    log::get("monitor")->warn("dashboard {}: {}", setup.dashboard_name, message);

  for (const aws::cloudwatch::Alarm& alarm : alarm_specs(resources)) {
    std::string logical_name = "alarm_" + alarm.name.substr(setup.dashboard_name.size() + 1);
    Status created = record_around(store, id, logical_name, "cloudwatch:alarm", alarm.name, "", [&] {
      return aws::cloudwatch::put_metric_alarm(client, alarm, deployment_tags(id, logical_name));
    });
    if (!created) return fail(created.error());
    setup.alarm_names.push_back(alarm.name);
  }

  Status stored = store.set_attribute(id, "dashboard_url", setup.dashboard_url);
  if (!stored) return fail(stored.error());
  log::get("monitor")->info("deployment {}: dashboard {} and {} alarms in place", id, setup.dashboard_name,
                            setup.alarm_names.size());
  return setup;
}

}  // namespace hivemind::monitor
