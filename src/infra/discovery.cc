#include "infra/discovery.h"

#include <fmt/format.h>

#include <map>

#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "aws/rds.h"
#include "aws/ssm.h"
#include "common/strings.h"
#include "infra/plan.h"

namespace hivemind::infra {
namespace {

using aws::AwsResult;

class Collector {
 public:
  Collector(aws::AwsClient& client, std::string deployment_id)
      : client_(client), deployment_id_(std::move(deployment_id)) {}

  std::vector<aws::Filter> filters() const {
    if (deployment_id_.empty()) return {aws::tag_key_filter(kDeploymentTagKey)};
    return {aws::tag_filter(kDeploymentTagKey, {deployment_id_})};
  }

  bool matches(const aws::Tags& tags) const {
    std::string value = aws::find_tag(tags, kDeploymentTagKey);
    if (deployment_id_.empty()) return !value.empty();
    return value == deployment_id_;
  }

  // The name prefix of resources found by name: "/hivemind/<id>".
  std::string path_prefix() const {
    return deployment_id_.empty() ? "/hivemind/" : fmt::format("/hivemind/{}", deployment_id_);
  }

  void add(ResourceKind kind, std::string physical_id, std::string arn, aws::Tags tags) {
    DiscoveredResource resource;
    resource.kind = kind_name(kind);
    resource.physical_id = std::move(physical_id);
    resource.arn = std::move(arn);
    resource.deployment_id = aws::find_tag(tags, kDeploymentTagKey);
    resource.logical_name = aws::find_tag(tags, kResourceTagKey);
    if (resource.logical_name.empty()) resource.logical_name = "found:" + resource.physical_id;
    resource.tags = std::move(tags);
    found_.push_back(std::move(resource));
  }

  // Adds a resource found by its name; its deployment comes from the name.
  void add_named(ResourceKind kind, const std::string& name, const std::string& arn, const std::string& logical_name) {
    DiscoveredResource resource;
    resource.kind = kind_name(kind);
    resource.physical_id = name;
    resource.arn = arn;
    resource.logical_name = logical_name;
    resource.deployment_id = deployment_from_path(name);
    found_.push_back(std::move(resource));
  }

  static std::string deployment_from_path(const std::string& name) {
    std::vector<std::string> parts = split(name, '/');
    return parts.size() > 2 ? parts[2] : "";
  }

  AwsResult<Unit> collect_ec2() {
    auto vpcs = aws::ec2::describe_vpcs(client_, {}, filters());
    if (!vpcs) return fail(vpcs.error());
    for (auto& vpc : *vpcs) add(ResourceKind::kVpc, vpc.id, "", vpc.tags);

    auto subnets = aws::ec2::describe_subnets(client_, {}, filters());
    if (!subnets) return fail(subnets.error());
    for (auto& subnet : *subnets) add(ResourceKind::kSubnet, subnet.id, "", subnet.tags);

    auto gateways = aws::ec2::describe_internet_gateways(client_, {}, filters());
    if (!gateways) return fail(gateways.error());
    for (auto& gateway : *gateways) add(ResourceKind::kInternetGateway, gateway.id, "", gateway.tags);

    auto tables = aws::ec2::describe_route_tables(client_, {}, filters());
    if (!tables) return fail(tables.error());
    for (auto& table : *tables) add(ResourceKind::kRouteTable, table.id, "", table.tags);

    auto groups = aws::ec2::describe_security_groups(client_, {}, filters());
    if (!groups) return fail(groups.error());
    for (auto& group : *groups) add(ResourceKind::kSecurityGroup, group.id, "", group.tags);

    auto keys = aws::ec2::describe_key_pairs(client_, {}, filters());
    if (!keys) return fail(keys.error());
    for (auto& key : *keys) add(ResourceKind::kKeyPair, key.name, "", key.tags);

    auto instances = aws::ec2::describe_instances(client_, {}, filters());
    if (!instances) return fail(instances.error());
    for (auto& instance : *instances) {
      if (instance.state == "terminated") continue;
      add(ResourceKind::kInstance, instance.id, "", instance.tags);
    }
    return ok_unit();
  }

  AwsResult<Unit> collect_load_balancing() {
    auto balancers = aws::elbv2::describe_load_balancers(client_, {});
    if (!balancers) return fail(balancers.error());
    auto target_groups = aws::elbv2::describe_target_groups(client_, {});
    if (!target_groups) return fail(target_groups.error());

    std::vector<std::string> arns;
    for (const auto& balancer : *balancers) arns.push_back(balancer.arn);
    for (const auto& group : *target_groups) arns.push_back(group.arn);
    std::map<std::string, aws::Tags> tags;
    // DescribeTags takes at most 20 ARNs a call.
    for (size_t start = 0; start < arns.size(); start += 20) {
      std::vector<std::string> batch(arns.begin() + start, arns.begin() + std::min(arns.size(), start + 20));
      auto described = aws::elbv2::describe_tags(client_, batch);
      if (!described) return fail(described.error());
      tags.insert(described->begin(), described->end());
    }

    for (const auto& balancer : *balancers) {
      if (!matches(tags[balancer.arn])) continue;
      auto listeners = aws::elbv2::describe_listeners(client_, balancer.arn);
      if (!listeners) return fail(listeners.error());
      for (const auto& listener : *listeners) {
        aws::Tags listener_tags = tags[balancer.arn];
        std::string logical = listener.port == 443 ? "listener_https" : listener.port == 80 ? "listener_http" : "";
        for (auto& tag : listener_tags) {
          if (tag.key == kResourceTagKey) tag.value = logical.empty() ? "found:" + listener.arn : logical;
        }
        add(ResourceKind::kListener, listener.arn, listener.arn, listener_tags);
      }
      add(ResourceKind::kLoadBalancer, balancer.arn, balancer.arn, tags[balancer.arn]);
    }
    for (const auto& group : *target_groups) {
      if (matches(tags[group.arn])) add(ResourceKind::kTargetGroup, group.arn, group.arn, tags[group.arn]);
    }
    return ok_unit();
  }

  AwsResult<Unit> collect_databases() {
    auto databases = aws::rds::describe_db_instances(client_);
    if (!databases) return fail(databases.error());
    for (auto& database : *databases) {
      if (matches(database.tags) && database.status != "deleting") {
        add(ResourceKind::kDbInstance, database.id, database.arn, database.tags);
      }
    }

    // DescribeDBSubnetGroups returns no tags: HiveMind names the group
    // "<deployment id>-db-subnet-group".
    auto subnet_groups = aws::rds::describe_subnet_groups(client_);
    if (!subnet_groups) return fail(subnet_groups.error());
    for (auto& group : *subnet_groups) {
      const std::string suffix = "-db-subnet-group";
      if (group.name.size() <= suffix.size() ||
          group.name.compare(group.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string owner = group.name.substr(0, group.name.size() - suffix.size());
      if (!starts_with(owner, "hm-")) continue;
      if (!deployment_id_.empty() && owner != deployment_id_) continue;
      DiscoveredResource resource;
      resource.kind = kind_name(ResourceKind::kDbSubnetGroup);
      resource.physical_id = group.name;
      resource.arn = group.arn;
      resource.logical_name = "db_subnet_group";
      resource.deployment_id = owner;
      found_.push_back(std::move(resource));
    }
    return ok_unit();
  }

  AwsResult<Unit> collect_named() {
    auto parameters = aws::ssm::get_parameters_by_path(client_, path_prefix(), /*recursive=*/true,
                                                       /*with_decryption=*/false);
    if (!parameters) return fail(parameters.error());
    for (auto& parameter : *parameters) {
      add_named(ResourceKind::kDbPassword, parameter.name, parameter.arn, "db_password");
    }

    auto groups = aws::logs::describe_log_groups(client_, path_prefix());
    if (!groups) return fail(groups.error());
    for (auto& group : *groups) {
      // "/hivemind/<id>" exactly; a prefix match alone could be another id.
      if (!deployment_id_.empty() && group.name != path_prefix()) continue;
      add_named(ResourceKind::kLogGroup, group.name, group.arn, "log_group");
    }
    return ok_unit();
  }

  // Dashboards are named "hivemind-<id>" and alarms "hivemind-<id>-<check>";
  // DescribeAlarms returns no tags, so both are found by name.
  AwsResult<Unit> collect_monitoring() {
    std::string prefix = deployment_id_.empty() ? "hivemind-hm-" : fmt::format("hivemind-{}", deployment_id_);
    auto dashboards = aws::cloudwatch::list_dashboards(client_, prefix);
    if (!dashboards) return fail(dashboards.error());
    for (const auto& dashboard : *dashboards) {
      std::string owner = dashboard.name.substr(std::string("hivemind-").size());
      if (!deployment_id_.empty() && owner != deployment_id_) continue;
      add_monitoring(ResourceKind::kDashboard, dashboard.name, dashboard.arn, "dashboard", owner);
    }

    auto alarms = aws::cloudwatch::describe_alarms(client_, {}, deployment_id_.empty() ? prefix : prefix + "-");
    if (!alarms) return fail(alarms.error());
    for (const auto& alarm : *alarms) {
      std::string rest = alarm.name.substr(std::string("hivemind-").size());
      std::string owner = deployment_id_;
      if (owner.empty()) {
        // "hm-<app>-<6 chars>-<check>": the id ends before the last '-'.
        size_t cut = rest.rfind('-');
        owner = cut == std::string::npos ? rest : rest.substr(0, cut);
      }
      std::string check = rest.size() > owner.size() + 1 ? rest.substr(owner.size() + 1) : rest;
      add_monitoring(ResourceKind::kAlarm, alarm.name, alarm.arn, "alarm_" + check, owner);
    }
    return ok_unit();
  }

  void add_monitoring(ResourceKind kind, const std::string& name, const std::string& arn,
                      const std::string& logical_name, const std::string& owner) {
    DiscoveredResource resource;
    resource.kind = kind_name(kind);
    resource.physical_id = name;
    resource.arn = arn;
    resource.logical_name = logical_name;
    resource.deployment_id = owner;
    found_.push_back(std::move(resource));
  }

  std::vector<DiscoveredResource> take() { return std::move(found_); }

 private:
  aws::AwsClient& client_;
  std::string deployment_id_;
  std::vector<DiscoveredResource> found_;
};

}  // namespace

AwsResult<std::vector<DiscoveredResource>> discover(aws::AwsClient& client, const std::string& deployment_id) {
  Collector collector(client, deployment_id);
  for (auto step : {&Collector::collect_ec2, &Collector::collect_load_balancing, &Collector::collect_databases,
                    &Collector::collect_named, &Collector::collect_monitoring}) {
    AwsResult<Unit> collected = (collector.*step)();
    if (!collected) return fail(collected.error());
  }
  return collector.take();
}

std::vector<state::Resource> as_state_resources(const std::vector<DiscoveredResource>& resources) {
  std::vector<state::Resource> records;
  for (const DiscoveredResource& found : resources) {
    state::Resource record;
    record.deployment_id = found.deployment_id;
    record.logical_name = found.logical_name;
    record.kind = found.kind;
    record.physical_id = found.physical_id;
    record.arn = found.arn;
    record.status = state::ResourceStatus::created;
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace hivemind::infra
