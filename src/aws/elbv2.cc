#include "aws/elbv2.h"

#include <string>
#include <utility>

namespace hivemind::aws::elbv2 {
namespace {

using calls::append_list;
using calls::append_member_tags;
using calls::int_value;
using calls::string_list;
using calls::text;

AwsResult<XmlResponse> send(AwsClient& client, std::string_view action, const QueryParams& params) {
  return client.query(elbv2_service(), action, params);
}

AwsResult<Unit> send_status(AwsClient& client, std::string_view action, const QueryParams& params) {
  return calls::query_status(client, elbv2_service(), action, params);
}

// Appends <prefix>.member.N for each item: the query protocol's list shape.
void append_members(QueryParams& params, const std::string& prefix, const std::vector<std::string>& items) {
  append_list(params, prefix + ".member", items);
}

// Follows NextMarker; `list_name` is the result's list, e.g. "LoadBalancers".
template <typename T, typename Parse>
AwsResult<std::vector<T>> describe_all(AwsClient& client, std::string_view action, QueryParams params,
                                       const char* list_name, Parse parse) {
  std::vector<T> items;
  AwsResult<Unit> paged = calls::query_pages(client, elbv2_service(), action, std::move(params), "Marker", "NextMarker",
                                             [&](pugi::xml_node page) {
                                               for (pugi::xml_node member : page.child(list_name).children("member")) {
                                                 items.push_back(parse(member));
                                               }
                                             });
  if (!paged.ok()) return fail(std::move(paged).error());
  return items;
}

LoadBalancer parse_load_balancer(pugi::xml_node node) {
  LoadBalancer balancer;
  balancer.arn = text(node, "LoadBalancerArn");
  balancer.name = text(node, "LoadBalancerName");
  balancer.dns_name = text(node, "DNSName");
  balancer.canonical_hosted_zone_id = text(node, "CanonicalHostedZoneId");
  balancer.scheme = text(node, "Scheme");
  balancer.type = text(node, "Type");
  balancer.state = text(node.child("State"), "Code");
  balancer.vpc_id = text(node, "VpcId");
  for (pugi::xml_node zone : node.child("AvailabilityZones").children("member")) {
    balancer.subnet_ids.push_back(text(zone, "SubnetId"));
  }
  balancer.security_group_ids = string_list(node.child("SecurityGroups"));
  return balancer;
}

TargetGroup parse_target_group(pugi::xml_node node) {
  TargetGroup group;
  group.arn = text(node, "TargetGroupArn");
  group.name = text(node, "TargetGroupName");
  group.protocol = text(node, "Protocol");
  group.port = int_value(node, "Port");
  group.vpc_id = text(node, "VpcId");
  group.target_type = text(node, "TargetType");
  group.health_check.protocol = text(node, "HealthCheckProtocol");
  group.health_check.path = text(node, "HealthCheckPath");
  group.health_check.interval_seconds = int_value(node, "HealthCheckIntervalSeconds");
  group.health_check.timeout_seconds = int_value(node, "HealthCheckTimeoutSeconds");
  group.health_check.healthy_threshold = int_value(node, "HealthyThresholdCount");
  group.health_check.unhealthy_threshold = int_value(node, "UnhealthyThresholdCount");
  group.health_check.matcher = text(node.child("Matcher"), "HttpCode");
  group.load_balancer_arns = string_list(node.child("LoadBalancerArns"));
  return group;
}

Action parse_action(pugi::xml_node node) {
  Action action;
  action.type = text(node, "Type");
  action.target_group_arn = text(node, "TargetGroupArn");
  pugi::xml_node redirect = node.child("RedirectConfig");
  action.redirect_protocol = text(redirect, "Protocol");
  action.redirect_port = text(redirect, "Port");
  action.redirect_status_code = text(redirect, "StatusCode");
  return action;
}

std::vector<Action> parse_actions(pugi::xml_node list) {
  std::vector<Action> actions;
  for (pugi::xml_node member : list.children("member")) actions.push_back(parse_action(member));
  return actions;
}

Listener parse_listener(pugi::xml_node node) {
  Listener listener;
  listener.arn = text(node, "ListenerArn");
  listener.load_balancer_arn = text(node, "LoadBalancerArn");
  listener.protocol = text(node, "Protocol");
  listener.port = int_value(node, "Port");
  listener.ssl_policy = text(node, "SslPolicy");
  listener.certificate_arn = text(node.child("Certificates").child("member"), "CertificateArn");
  listener.default_actions = parse_actions(node.child("DefaultActions"));
  return listener;
}

Rule parse_rule(pugi::xml_node node) {
  Rule rule;
  rule.arn = text(node, "RuleArn");
  rule.priority = text(node, "Priority");
  rule.is_default = calls::bool_value(node, "IsDefault");
  for (pugi::xml_node member : node.child("Conditions").children("member")) {
    rule.conditions.push_back(Condition{text(member, "Field"), string_list(member.child("Values"))});
  }
  rule.actions = parse_actions(node.child("Actions"));
  return rule;
}

// Flattens one action under `prefix` ("DefaultActions.member.1").
void append_action(QueryParams& params, const std::string& prefix, const Action& action) {
  params.emplace_back(prefix + ".Type", action.type);
  if (action.type == "forward") {
    params.emplace_back(prefix + ".TargetGroupArn", action.target_group_arn);
    return;
  }
  params.emplace_back(prefix + ".RedirectConfig.Protocol", action.redirect_protocol);
  params.emplace_back(prefix + ".RedirectConfig.Port", action.redirect_port);
  params.emplace_back(prefix + ".RedirectConfig.StatusCode", action.redirect_status_code);
}

void append_targets(QueryParams& params, const std::vector<Target>& targets) {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    std::string prefix = "Targets.member." + std::to_string(i + 1);
    params.emplace_back(prefix + ".Id", targets[i].id);
    if (targets[i].port > 0) params.emplace_back(prefix + ".Port", std::to_string(targets[i].port));
  }
}

}  // namespace

Action forward_to(const std::string& target_group_arn) {
  Action action;
  action.type = "forward";
  action.target_group_arn = target_group_arn;
  return action;
}

Action redirect_to_https(int port) {
  Action action;
  action.type = "redirect";
  action.redirect_protocol = "HTTPS";
  action.redirect_port = std::to_string(port);
  action.redirect_status_code = "HTTP_301";
  return action;
}

AwsResult<LoadBalancer> create_load_balancer(AwsClient& client, const CreateLoadBalancerRequest& request) {
  QueryParams params{
      {"Name", request.name}, {"Type", "application"}, {"Scheme", request.scheme}, {"IpAddressType", "ipv4"}};
  append_members(params, "Subnets", request.subnet_ids);
  append_members(params, "SecurityGroups", request.security_group_ids);
  append_member_tags(params, "Tags", request.tags);

  AwsResult<XmlResponse> response = send(client, "CreateLoadBalancer", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_load_balancer(response->result.child("LoadBalancers").child("member"));
}

AwsResult<std::vector<LoadBalancer>> describe_load_balancers(AwsClient& client, const std::vector<std::string>& arns,
                                                             const std::vector<std::string>& names, int page_size) {
  QueryParams params;
  append_members(params, "LoadBalancerArns", arns);
  append_members(params, "Names", names);
  if (page_size > 0) params.emplace_back("PageSize", std::to_string(page_size));
  return describe_all<LoadBalancer>(client, "DescribeLoadBalancers", std::move(params), "LoadBalancers",
                                    parse_load_balancer);
}

AwsResult<Unit> delete_load_balancer(AwsClient& client, const std::string& arn) {
  return send_status(client, "DeleteLoadBalancer", {{"LoadBalancerArn", arn}});
}

AwsResult<TargetGroup> create_target_group(AwsClient& client, const CreateTargetGroupRequest& request) {
  const HealthCheck& check = request.health_check;
  QueryParams params{{"Name", request.name},
                     {"Protocol", request.protocol},
                     {"Port", std::to_string(request.port)},
                     {"VpcId", request.vpc_id},
                     {"TargetType", "instance"},
                     {"HealthCheckEnabled", "true"},
                     {"HealthCheckProtocol", check.protocol},
                     {"HealthCheckPath", check.path},
                     {"HealthCheckIntervalSeconds", std::to_string(check.interval_seconds)},
                     {"HealthCheckTimeoutSeconds", std::to_string(check.timeout_seconds)},
                     {"HealthyThresholdCount", std::to_string(check.healthy_threshold)},
                     {"UnhealthyThresholdCount", std::to_string(check.unhealthy_threshold)},
                     {"Matcher.HttpCode", check.matcher}};
  append_member_tags(params, "Tags", request.tags);

  AwsResult<XmlResponse> response = send(client, "CreateTargetGroup", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_target_group(response->result.child("TargetGroups").child("member"));
}

AwsResult<std::vector<TargetGroup>> describe_target_groups(AwsClient& client, const std::vector<std::string>& arns,
                                                           const std::string& load_balancer_arn) {
  QueryParams params;
  append_members(params, "TargetGroupArns", arns);
  if (!load_balancer_arn.empty()) params.emplace_back("LoadBalancerArn", load_balancer_arn);
  return describe_all<TargetGroup>(client, "DescribeTargetGroups", std::move(params), "TargetGroups",
                                   parse_target_group);
}

AwsResult<Unit> delete_target_group(AwsClient& client, const std::string& arn) {
  return send_status(client, "DeleteTargetGroup", {{"TargetGroupArn", arn}});
}

AwsResult<Unit> modify_target_group_attributes(AwsClient& client, const std::string& arn,
                                               const std::map<std::string, std::string>& attributes) {
  QueryParams params{{"TargetGroupArn", arn}};
  int index = 1;
  for (const auto& [key, value] : attributes) {
    std::string prefix = "Attributes.member." + std::to_string(index++);
    params.emplace_back(prefix + ".Key", key);
    params.emplace_back(prefix + ".Value", value);
  }
  return send_status(client, "ModifyTargetGroupAttributes", params);
}

AwsResult<Unit> set_deregistration_delay(AwsClient& client, const std::string& target_group_arn, int seconds) {
  return modify_target_group_attributes(client, target_group_arn,
                                        {{"deregistration_delay.timeout_seconds", std::to_string(seconds)}});
}

AwsResult<Listener> create_listener(AwsClient& client, const CreateListenerRequest& request) {
  QueryParams params{{"LoadBalancerArn", request.load_balancer_arn},
                     {"Protocol", request.protocol},
                     {"Port", std::to_string(request.port)}};
  if (request.protocol == "HTTPS") {
    params.emplace_back("SslPolicy", request.ssl_policy);
    params.emplace_back("Certificates.member.1.CertificateArn", request.certificate_arn);
  }
  append_action(params, "DefaultActions.member.1", request.default_action);
  append_member_tags(params, "Tags", request.tags);

  AwsResult<XmlResponse> response = send(client, "CreateListener", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_listener(response->result.child("Listeners").child("member"));
}

AwsResult<std::vector<Listener>> describe_listeners(AwsClient& client, const std::string& load_balancer_arn) {
  return describe_all<Listener>(client, "DescribeListeners", {{"LoadBalancerArn", load_balancer_arn}}, "Listeners",
                                parse_listener);
}

AwsResult<Unit> delete_listener(AwsClient& client, const std::string& arn) {
  return send_status(client, "DeleteListener", {{"ListenerArn", arn}});
}

AwsResult<Rule> create_rule(AwsClient& client, const std::string& listener_arn, int priority,
                            const std::vector<Condition>& conditions, const Action& action, const Tags& tags) {
  QueryParams params{{"ListenerArn", listener_arn}, {"Priority", std::to_string(priority)}};
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    std::string prefix = "Conditions.member." + std::to_string(i + 1);
    params.emplace_back(prefix + ".Field", conditions[i].field);
    append_members(params, prefix + ".Values", conditions[i].values);
  }
  append_action(params, "Actions.member.1", action);
  append_member_tags(params, "Tags", tags);

  AwsResult<XmlResponse> response = send(client, "CreateRule", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_rule(response->result.child("Rules").child("member"));
}

AwsResult<std::vector<Rule>> describe_rules(AwsClient& client, const std::string& listener_arn) {
  return describe_all<Rule>(client, "DescribeRules", {{"ListenerArn", listener_arn}}, "Rules", parse_rule);
}

AwsResult<Unit> delete_rule(AwsClient& client, const std::string& arn) {
  return send_status(client, "DeleteRule", {{"RuleArn", arn}});
}

AwsResult<Unit> register_targets(AwsClient& client, const std::string& target_group_arn,
                                 const std::vector<Target>& targets) {
  QueryParams params{{"TargetGroupArn", target_group_arn}};
  append_targets(params, targets);
  return send_status(client, "RegisterTargets", params);
}

AwsResult<Unit> deregister_targets(AwsClient& client, const std::string& target_group_arn,
                                   const std::vector<Target>& targets) {
  QueryParams params{{"TargetGroupArn", target_group_arn}};
  append_targets(params, targets);
  return send_status(client, "DeregisterTargets", params);
}

AwsResult<std::vector<TargetHealth>> describe_target_health(AwsClient& client, const std::string& target_group_arn) {
  AwsResult<XmlResponse> response = send(client, "DescribeTargetHealth", {{"TargetGroupArn", target_group_arn}});
  if (!response.ok()) return fail(std::move(response).error());

  std::vector<TargetHealth> health;
  for (pugi::xml_node member : response->result.child("TargetHealthDescriptions").children("member")) {
    pugi::xml_node state = member.child("TargetHealth");
    health.push_back(TargetHealth{text(member.child("Target"), "Id"), int_value(member.child("Target"), "Port"),
                                  text(state, "State"), text(state, "Reason"), text(state, "Description")});
  }
  return health;
}

AwsResult<std::map<std::string, Tags>> describe_tags(AwsClient& client, const std::vector<std::string>& arns) {
  QueryParams params;
  append_members(params, "ResourceArns", arns);
  AwsResult<XmlResponse> response = send(client, "DescribeTags", params);
  if (!response.ok()) return fail(std::move(response).error());

  std::map<std::string, Tags> tags;
  for (pugi::xml_node member : response->result.child("TagDescriptions").children("member")) {
    tags[text(member, "ResourceArn")] = calls::member_tags(member.child("Tags"));
  }
  return tags;
}

AwsResult<Unit> add_tags(AwsClient& client, const std::vector<std::string>& arns, const Tags& tags) {
  QueryParams params;
  append_members(params, "ResourceArns", arns);
  append_member_tags(params, "Tags", tags);
  return send_status(client, "AddTags", params);
}

}  // namespace hivemind::aws::elbv2
