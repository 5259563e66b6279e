#include "infra/console.h"

#include <fmt/format.h>

#include <map>

namespace hivemind::infra {

std::string console_url(const std::string& kind, const std::string& physical_id, const std::string& region) {
  // Each page takes the resource's id (or ARN, or name) as its filter.
  static const std::map<std::string, std::string> kPages = {
      {"ec2:vpc", "vpcconsole/home?region={r}#VpcDetails:VpcId={id}"},
      {"ec2:subnet", "vpcconsole/home?region={r}#SubnetDetails:subnetId={id}"},
      {"ec2:internet-gateway", "vpcconsole/home?region={r}#InternetGateway:internetGatewayId={id}"},
      {"ec2:route-table", "vpcconsole/home?region={r}#RouteTableDetails:RouteTableId={id}"},
      {"ec2:security-group", "ec2/home?region={r}#SecurityGroup:groupId={id}"},
      {"ec2:key-pair", "ec2/home?region={r}#KeyPairs:keyName={id}"},
      {"ec2:instance", "ec2/home?region={r}#InstanceDetails:instanceId={id}"},
      {"elasticloadbalancing:loadbalancer", "ec2/home?region={r}#LoadBalancer:loadBalancerArn={id}"},
      {"elasticloadbalancing:targetgroup", "ec2/home?region={r}#TargetGroup:targetGroupArn={id}"},
      {"elasticloadbalancing:listener", "ec2/home?region={r}#LoadBalancers:"},
      {"rds:db-instance", "rds/home?region={r}#database:id={id}"},
      {"rds:subnet-group", "rds/home?region={r}#db-subnet-group:id={id}"},
      {"ssm:parameter", "systems-manager/parameters/?region={r}&tab=Table#list_parameter_filters=Name:Equals:{id}"},
      {"logs:log-group", "cloudwatch/home?region={r}#logsV2:log-groups"},
      {"cloudwatch:dashboard", "cloudwatch/home?region={r}#dashboards:name={id}"},
      {"cloudwatch:alarm", "cloudwatch/home?region={r}#alarmsV2:alarm/{id}"},
  };
  auto page = kPages.find(kind);
  if (page == kPages.end()) return {};
  return fmt::format("https://{}.console.aws.amazon.com/{}", region,
                     fmt::format(fmt::runtime(page->second), fmt::arg("r", region), fmt::arg("id", physical_id)));
}

}  // namespace hivemind::infra
