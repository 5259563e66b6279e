#pragma once

// Typed Elastic Load Balancing v2 calls for application load balancers:
// load balancers, target groups, listeners, listener rules, targets and tags.
// Create calls apply tags (Tags.member.N) in the call itself. Describe calls
// follow NextMarker to the last page.

#include <map>
#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"

namespace hivemind::aws::elbv2 {

// The TLS policy HiveMind puts on HTTPS listeners: TLS 1.2 and 1.3 only.
inline constexpr const char* kDefaultSslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";

struct LoadBalancer {
  std::string arn;
  std::string name;
  std::string dns_name;
  std::string canonical_hosted_zone_id;
  std::string scheme;  // "internet-facing" or "internal"
  std::string type;    // "application"
  std::string state;   // "provisioning", "active", "failed", ...
  std::string vpc_id;
  std::vector<std::string> subnet_ids;
  std::vector<std::string> security_group_ids;
};

struct CreateLoadBalancerRequest {
  std::string name;
  std::vector<std::string> subnet_ids;  // at least two, in different zones
  std::vector<std::string> security_group_ids;
  std::string scheme = "internet-facing";
  Tags tags;
};

struct HealthCheck {
  std::string protocol = "HTTP";
  std::string path = "/";
  int interval_seconds = 30;
  int timeout_seconds = 5;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
  std::string matcher = "200";  // HTTP codes, e.g. "200" or "200-399"
};

struct TargetGroup {
  std::string arn;
  std::string name;
  std::string protocol;
  int port = 0;
  std::string vpc_id;
  std::string target_type;
  HealthCheck health_check;
  std::vector<std::string> load_balancer_arns;
};

struct CreateTargetGroupRequest {
  std::string name;
  std::string protocol = "HTTP";
  int port = 80;
  std::string vpc_id;
  HealthCheck health_check;
  Tags tags;
};

// What a listener or rule does with a request: forward it to a target group,
// or redirect it (HiveMind redirects HTTP to HTTPS).
struct Action {
  std::string type = "forward";   // "forward" or "redirect"
  std::string target_group_arn;   // forward
  std::string redirect_protocol;  // redirect: "HTTPS"
  std::string redirect_port;      // redirect: "443"
  std::string redirect_status_code = "HTTP_301";
};

Action forward_to(const std::string& target_group_arn);
Action redirect_to_https(int port = 443);

struct Listener {
  std::string arn;
  std::string load_balancer_arn;
  std::string protocol;
  int port = 0;
  std::string ssl_policy;
  std::string certificate_arn;
  std::vector<Action> default_actions;
};

struct CreateListenerRequest {
  std::string load_balancer_arn;
  std::string protocol = "HTTP";  // "HTTP" or "HTTPS"
  int port = 80;
  std::string certificate_arn;                 // HTTPS only
  std::string ssl_policy = kDefaultSslPolicy;  // HTTPS only
  Action default_action;
  Tags tags;
};

// One listener rule condition, e.g. {"path-pattern", {"/api/*"}} or
// {"host-header", {"api.example.com"}}.
struct Condition {
  std::string field;
  std::vector<std::string> values;
};

struct Rule {
  std::string arn;
  std::string priority;  // "default" for the listener's default rule
  bool is_default = false;
  std::vector<Condition> conditions;
  std::vector<Action> actions;
};

struct Target {
  std::string id;  // instance id
  int port = 0;    // 0: the target group's port
};

struct TargetHealth {
  std::string target_id;
  int port = 0;
  std::string state;  // "initial", "healthy", "unhealthy", "unused", "draining", "unavailable"
  std::string reason;
  std::string description;
};

// Load balancers. describe_load_balancers returns all of them when both
// lists are empty; `page_size` 0 lets AWS choose (otherwise 1 to 400).
AwsResult<LoadBalancer> create_load_balancer(AwsClient& client, const CreateLoadBalancerRequest& request);
AwsResult<std::vector<LoadBalancer>> describe_load_balancers(AwsClient& client, const std::vector<std::string>& arns,
                                                             const std::vector<std::string>& names = {},
                                                             int page_size = 0);
AwsResult<Unit> delete_load_balancer(AwsClient& client, const std::string& arn);

// Target groups. With a non-empty `load_balancer_arn`, only that load
// balancer's target groups are listed.
AwsResult<TargetGroup> create_target_group(AwsClient& client, const CreateTargetGroupRequest& request);
AwsResult<std::vector<TargetGroup>> describe_target_groups(AwsClient& client, const std::vector<std::string>& arns,
                                                           const std::string& load_balancer_arn = {});
AwsResult<Unit> delete_target_group(AwsClient& client, const std::string& arn);
AwsResult<Unit> modify_target_group_attributes(AwsClient& client, const std::string& arn,
                                               const std::map<std::string, std::string>& attributes);
// Sets deregistration_delay.timeout_seconds: how long a deregistered target
// keeps its open connections.
AwsResult<Unit> set_deregistration_delay(AwsClient& client, const std::string& target_group_arn, int seconds);

// Listeners
AwsResult<Listener> create_listener(AwsClient& client, const CreateListenerRequest& request);
AwsResult<std::vector<Listener>> describe_listeners(AwsClient& client, const std::string& load_balancer_arn);
AwsResult<Unit> delete_listener(AwsClient& client, const std::string& arn);

// Listener rules
AwsResult<Rule> create_rule(AwsClient& client, const std::string& listener_arn, int priority,
                            const std::vector<Condition>& conditions, const Action& action, const Tags& tags);
AwsResult<std::vector<Rule>> describe_rules(AwsClient& client, const std::string& listener_arn);
AwsResult<Unit> delete_rule(AwsClient& client, const std::string& arn);

// Targets
AwsResult<Unit> register_targets(AwsClient& client, const std::string& target_group_arn,
                                 const std::vector<Target>& targets);
AwsResult<Unit> deregister_targets(AwsClient& client, const std::string& target_group_arn,
                                   const std::vector<Target>& targets);
AwsResult<std::vector<TargetHealth>> describe_target_health(AwsClient& client, const std::string& target_group_arn);

// Tags of load balancers, target groups, listeners and rules, by ARN.
AwsResult<std::map<std::string, Tags>> describe_tags(AwsClient& client, const std::vector<std::string>& arns);
AwsResult<Unit> add_tags(AwsClient& client, const std::vector<std::string>& arns, const Tags& tags);

}  // namespace hivemind::aws::elbv2
