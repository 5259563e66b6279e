#include "aws/permissions.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "aws/ec2.h"
#include "aws/iam.h"
#include "common/log.h"

namespace hivemind::aws::permissions {
namespace {

using nlohmann::json;

// Names and ids of resources that no deployment creates, so that a probe
// aimed at them changes nothing. EC2 ids have the real format, so that the
// probe fails on the missing resource rather than on a malformed id.
constexpr const char* kProbeName = "hivemind-doctor-probe";
constexpr const char* kVpc = "vpc-00000000000000000";
constexpr const char* kSubnet = "subnet-00000000000000000";
constexpr const char* kGateway = "igw-00000000000000000";
constexpr const char* kRouteTable = "rtb-00000000000000000";
constexpr const char* kAssociation = "rtbassoc-00000000000000000";
constexpr const char* kGroup = "sg-00000000000000000";
constexpr const char* kInstance = "i-00000000000000000";
constexpr const char* kImage = "ami-00000000000000000";

using QueryBuilder = std::function<QueryParams(const ProbeContext&)>;
using JsonBuilder = std::function<json(const ProbeContext&)>;

// One probe: the IAM action it checks and the call that exercises it.
struct Probe {
  std::string label;
  std::string action;
  const ServiceSpec* service;
  std::string operation;
  QueryBuilder query;  // query protocols; EC2 probes get DryRun=true added
  JsonBuilder body;    // JSON 1.1
};

std::string arn(const ProbeContext& context, std::string_view service, std::string_view resource) {
  return "arn:aws:" + std::string(service) + ":" + context.region + ":" + context.account + ":" + std::string(resource);
}

std::string load_balancer_arn(const ProbeContext& context) {
  return arn(context, "elasticloadbalancing", "loadbalancer/app/hivemind-doctor-probe/0000000000000000");
}

std::string target_group_arn(const ProbeContext& context) {
  return arn(context, "elasticloadbalancing", "targetgroup/hivemind-doctor-probe/0000000000000000");
}

std::string listener_arn(const ProbeContext& context) {
  return arn(context, "elasticloadbalancing", "listener/app/hivemind-doctor-probe/0000000000000000/0000000000000000");
}

std::string rule_arn(const ProbeContext& context) {
  return arn(context, "elasticloadbalancing",
             "listener-rule/app/hivemind-doctor-probe/0000000000000000/0000000000000000/0000000000000000");
}

// An OpenSSH ed25519 public key line whose key is 32 zero bytes: well formed,
// and no one has its private key.
std::string probe_public_key() {
  std::string blob;
  auto append_string = [&blob](std::string_view text) {
    std::uint32_t size = static_cast<std::uint32_t>(text.size());
    for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<char>((size >> shift) & 0xff));
    blob.append(text);
  };
  append_string("ssh-ed25519");
  append_string(std::string(32, '\0'));
  return "ssh-ed25519 " + ec2::base64_encode(blob) + " hivemind-doctor-probe";
}

Probe ec2_probe(std::string operation, QueryParams params = {}) {
  return Probe{"EC2",  "ec2:" + operation, &ec2_service(), operation, [params](const ProbeContext&) { return params; },
               nullptr};
}

std::vector<Probe> ec2_probes() {
  return {
      // A /8 is outside the /16 to /28 that EC2 accepts, so no VPC is made
      // where DryRun is ignored (moto 5.2.1 creates the VPC despite it).
      ec2_probe("CreateVpc", {{"CidrBlock", "10.0.0.0/8"}}),
      ec2_probe("DescribeVpcs"),
      ec2_probe("DeleteVpc", {{"VpcId", kVpc}}),
      ec2_probe("ModifyVpcAttribute", {{"VpcId", kVpc}, {"EnableDnsHostnames.Value", "true"}}),
      ec2_probe("CreateSubnet", {{"VpcId", kVpc}, {"CidrBlock", "10.0.0.0/24"}}),
      ec2_probe("DescribeSubnets"),
      ec2_probe("DeleteSubnet", {{"SubnetId", kSubnet}}),
      ec2_probe("ModifySubnetAttribute", {{"SubnetId", kSubnet}, {"MapPublicIpOnLaunch.Value", "true"}}),
      ec2_probe("CreateInternetGateway"),
      ec2_probe("AttachInternetGateway", {{"InternetGatewayId", kGateway}, {"VpcId", kVpc}}),
      ec2_probe("DetachInternetGateway", {{"InternetGatewayId", kGateway}, {"VpcId", kVpc}}),
      ec2_probe("DeleteInternetGateway", {{"InternetGatewayId", kGateway}}),
      ec2_probe("DescribeInternetGateways"),
      ec2_probe("CreateRouteTable", {{"VpcId", kVpc}}),
      ec2_probe("CreateRoute",
                {{"RouteTableId", kRouteTable}, {"DestinationCidrBlock", "0.0.0.0/0"}, {"GatewayId", kGateway}}),
      ec2_probe("AssociateRouteTable", {{"RouteTableId", kRouteTable}, {"SubnetId", kSubnet}}),
      ec2_probe("DisassociateRouteTable", {{"AssociationId", kAssociation}}),
      ec2_probe("DeleteRouteTable", {{"RouteTableId", kRouteTable}}),
      ec2_probe("DescribeRouteTables"),
      ec2_probe("CreateSecurityGroup", {{"GroupName", kProbeName}, {"GroupDescription", kProbeName}, {"VpcId", kVpc}}),
      ec2_probe("AuthorizeSecurityGroupIngress", {{"GroupId", kGroup},
                                                  {"IpPermissions.1.IpProtocol", "tcp"},
                                                  {"IpPermissions.1.FromPort", "443"},
                                                  {"IpPermissions.1.ToPort", "443"},
                                                  {"IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/16"}}),
      ec2_probe("RevokeSecurityGroupIngress", {{"GroupId", kGroup},
                                               {"IpPermissions.1.IpProtocol", "tcp"},
                                               {"IpPermissions.1.FromPort", "443"},
                                               {"IpPermissions.1.ToPort", "443"},
                                               {"IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/16"}}),
      ec2_probe("DescribeSecurityGroups"),
      ec2_probe("DeleteSecurityGroup", {{"GroupId", kGroup}}),
      ec2_probe("ImportKeyPair",
                {{"KeyName", kProbeName}, {"PublicKeyMaterial", ec2::base64_encode(probe_public_key())}}),
      ec2_probe("DescribeKeyPairs"),
      ec2_probe("DeleteKeyPair", {{"KeyName", kProbeName}}),
      ec2_probe("RunInstances",
                {{"ImageId", kImage}, {"InstanceType", "t3.micro"}, {"MinCount", "1"}, {"MaxCount", "1"}}),
      ec2_probe("DescribeInstances"),
      ec2_probe("TerminateInstances", {{"InstanceId.1", kInstance}}),
      ec2_probe("DescribeAvailabilityZones"),
      ec2_probe("DescribeImages", {{"ImageId.1", kImage}}),
      ec2_probe("DescribeRegions"),
      ec2_probe("CreateTags", {{"ResourceId.1", kVpc}, {"Tag.1.Key", kProbeName}, {"Tag.1.Value", kProbeName}}),
  };
}

Probe query_probe(std::string label, const ServiceSpec& service, std::string operation, QueryBuilder builder) {
  return Probe{std::move(label),   std::string(service.iam_prefix) + ":" + operation,
               &service,           operation,
               std::move(builder), nullptr};
}

Probe json_probe(std::string label, const ServiceSpec& service, std::string operation, JsonBuilder builder) {
  return Probe{std::move(label),  std::string(service.iam_prefix) + ":" + operation, &service, operation, nullptr,
               std::move(builder)};
}

std::vector<Probe> elbv2_probes() {
  const ServiceSpec& elb = elbv2_service();
  auto probe = [&elb](std::string operation, QueryBuilder builder) {
    return query_probe("ELBv2", elb, std::move(operation), std::move(builder));
  };
  auto by_target_group = [](const ProbeContext& context) {
    return QueryParams{{"TargetGroupArn", target_group_arn(context)}};
  };
  auto with_target = [](const ProbeContext& context) {
    return QueryParams{{"TargetGroupArn", target_group_arn(context)}, {"Targets.member.1.Id", kInstance}};
  };
  return {
      probe("CreateLoadBalancer",
            [](const ProbeContext&) {
              return QueryParams{{"Name", kProbeName},
                                 {"Subnets.member.1", kSubnet},
                                 {"Subnets.member.2", "subnet-00000000000000001"}};
            }),
      probe("DescribeLoadBalancers",
            [](const ProbeContext&) {
              return QueryParams{{"PageSize", "1"}};
            }),
      probe("DeleteLoadBalancer",
            [](const ProbeContext& context) {
              return QueryParams{{"LoadBalancerArn", load_balancer_arn(context)}};
            }),
      probe("CreateTargetGroup",
            [](const ProbeContext&) {
              return QueryParams{{"Name", kProbeName}, {"Protocol", "HTTP"}, {"Port", "80"}, {"VpcId", kVpc}};
            }),
      probe("DescribeTargetGroups",
            [](const ProbeContext&) {
              return QueryParams{{"PageSize", "1"}};
            }),
      probe("DeleteTargetGroup", by_target_group),
      probe("ModifyTargetGroupAttributes",
            [](const ProbeContext& context) {
              return QueryParams{{"TargetGroupArn", target_group_arn(context)},
                                 {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
                                 {"Attributes.member.1.Value", "30"}};
            }),
      probe("CreateListener",
            [](const ProbeContext& context) {
              return QueryParams{{"LoadBalancerArn", load_balancer_arn(context)},
                                 {"Protocol", "HTTP"},
                                 {"Port", "80"},
                                 {"DefaultActions.member.1.Type", "forward"},
                                 {"DefaultActions.member.1.TargetGroupArn", target_group_arn(context)}};
            }),
      probe("DescribeListeners",
            [](const ProbeContext& context) {
              return QueryParams{{"LoadBalancerArn", load_balancer_arn(context)}};
            }),
      probe("DeleteListener",
            [](const ProbeContext& context) {
              return QueryParams{{"ListenerArn", listener_arn(context)}};
            }),
      probe("CreateRule",
            [](const ProbeContext& context) {
              return QueryParams{{"ListenerArn", listener_arn(context)},
                                 {"Priority", "1"},
                                 {"Conditions.member.1.Field", "path-pattern"},
                                 {"Conditions.member.1.Values.member.1", "/hivemind-doctor-probe"},
                                 {"Actions.member.1.Type", "forward"},
                                 {"Actions.member.1.TargetGroupArn", target_group_arn(context)}};
            }),
      probe("DescribeRules",
            [](const ProbeContext& context) {
              return QueryParams{{"ListenerArn", listener_arn(context)}};
            }),
      probe("DeleteRule",
            [](const ProbeContext& context) {
              return QueryParams{{"RuleArn", rule_arn(context)}};
            }),
      probe("RegisterTargets", with_target),
      probe("DeregisterTargets", with_target),
      probe("DescribeTargetHealth", by_target_group),
      probe("DescribeTags",
            [](const ProbeContext& context) {
              return QueryParams{{"ResourceArns.member.1", load_balancer_arn(context)}};
            }),
      probe("AddTags",
            [](const ProbeContext& context) {
              return QueryParams{{"ResourceArns.member.1", load_balancer_arn(context)},
                                 {"Tags.member.1.Key", kProbeName},
                                 {"Tags.member.1.Value", kProbeName}};
            }),
  };
}

std::vector<Probe> rds_probes() {
  const ServiceSpec& rds = rds_service();
  auto probe = [&rds](std::string operation, QueryBuilder builder) {
    return query_probe("RDS", rds, std::move(operation), std::move(builder));
  };
  auto by_instance = [](const ProbeContext&) { return QueryParams{{"DBInstanceIdentifier", kProbeName}}; };
  auto by_snapshot = [](const ProbeContext&) { return QueryParams{{"DBSnapshotIdentifier", kProbeName}}; };
  auto by_subnet_group = [](const ProbeContext&) { return QueryParams{{"DBSubnetGroupName", kProbeName}}; };
  return {
      probe("CreateDBSubnetGroup",
            [](const ProbeContext&) {
              return QueryParams{{"DBSubnetGroupName", kProbeName},
                                 {"DBSubnetGroupDescription", kProbeName},
                                 {"SubnetIds.SubnetIdentifier.1", kSubnet}};
            }),
      probe("DescribeDBSubnetGroups", by_subnet_group),
      probe("DeleteDBSubnetGroup", by_subnet_group),
      // A subnet group that does not exist makes AWS reject the instance
      // before anything is created.
      probe("CreateDBInstance",
            [](const ProbeContext&) {
              return QueryParams{
                  {"DBInstanceIdentifier", kProbeName}, {"Engine", "postgres"},
                  {"DBInstanceClass", "db.t3.micro"},   {"AllocatedStorage", "20"},
                  {"MasterUsername", "probe"},          {"MasterUserPassword", "probe-password-never-used"},
                  {"DBSubnetGroupName", kProbeName}};
            }),
      probe("DescribeDBInstances", by_instance),
      probe("DeleteDBInstance",
            [](const ProbeContext&) {
              return QueryParams{{"DBInstanceIdentifier", kProbeName}, {"SkipFinalSnapshot", "true"}};
            }),
      probe("CreateDBSnapshot",
            [](const ProbeContext&) {
              return QueryParams{{"DBSnapshotIdentifier", kProbeName}, {"DBInstanceIdentifier", kProbeName}};
            }),
      probe("DescribeDBSnapshots", by_snapshot),
      probe("DeleteDBSnapshot", by_snapshot),
      probe("AddTagsToResource",
            [](const ProbeContext& context) {
              return QueryParams{{"ResourceName", arn(context, "rds", "db:hivemind-doctor-probe")},
                                 {"Tags.Tag.1.Key", kProbeName},
                                 {"Tags.Tag.1.Value", kProbeName}};
            }),
  };
}

std::vector<Probe> logs_probes() {
  const ServiceSpec& logs = logs_service();
  auto probe = [&logs](std::string operation, JsonBuilder builder) {
    return json_probe("CloudWatch Logs", logs, std::move(operation), std::move(builder));
  };
  // Log group names are at most 512 characters, so this one is rejected.
  static const std::string kInvalidGroup(513, 'h');
  auto by_group = [](const ProbeContext&) { return json{{"logGroupName", kProbeName}}; };
  auto by_stream = [](const ProbeContext&) {
    return json{{"logGroupName", kProbeName}, {"logStreamName", kProbeName}};
  };
  return {
      probe("CreateLogGroup",
            [](const ProbeContext&) {
              return json{{"logGroupName", kInvalidGroup}};
            }),
      probe("PutRetentionPolicy",
            [](const ProbeContext&) {
              return json{{"logGroupName", kProbeName}, {"retentionInDays", 1}};
            }),
      probe("DescribeLogGroups",
            [](const ProbeContext&) {
              return json{{"logGroupNamePrefix", kProbeName}, {"limit", 1}};
            }),
      probe("DeleteLogGroup", by_group),
      probe("CreateLogStream", by_stream),
      probe("DescribeLogStreams", by_group),
      probe("PutLogEvents",
            [](const ProbeContext&) {
              return json{{"logGroupName", kProbeName},
                          {"logStreamName", kProbeName},
                          {"logEvents", json::array({{{"timestamp", 0}, {"message", kProbeName}}})}};
            }),
      probe("FilterLogEvents", by_group),
      probe("GetLogEvents", by_stream),
      probe("TagResource",
            [](const ProbeContext& context) {
              return json{{"resourceArn", arn(context, "logs", "log-group:hivemind-doctor-probe")},
                          {"tags", {{kProbeName, kProbeName}}}};
            }),
  };
}

std::vector<Probe> cloudwatch_probes() {
  const ServiceSpec& monitoring = monitoring_service();
  auto probe = [&monitoring](std::string operation, QueryBuilder builder) {
    return query_probe("CloudWatch", monitoring, std::move(operation), std::move(builder));
  };
  auto by_dashboard = [](const ProbeContext&) { return QueryParams{{"DashboardName", kProbeName}}; };
  return {
      // Value and Values together are rejected, so nothing is stored.
      probe("PutMetricData",
            [](const ProbeContext&) {
              return QueryParams{{"Namespace", "HiveMindDoctorProbe"},
                                 {"MetricData.member.1.MetricName", kProbeName},
                                 {"MetricData.member.1.Value", "0"},
                                 {"MetricData.member.1.Values.member.1", "0"}};
            }),
      probe("GetMetricData",
            [](const ProbeContext&) {
              return QueryParams{{"StartTime", "2024-01-01T00:00:00Z"},
                                 {"EndTime", "2024-01-01T00:05:00Z"},
                                 {"MetricDataQueries.member.1.Id", "probe"},
                                 {"MetricDataQueries.member.1.MetricStat.Metric.Namespace", "HiveMindDoctorProbe"},
                                 {"MetricDataQueries.member.1.MetricStat.Metric.MetricName", kProbeName},
                                 {"MetricDataQueries.member.1.MetricStat.Period", "60"},
                                 {"MetricDataQueries.member.1.MetricStat.Stat", "Average"}};
            }),
      // A body that is not JSON is rejected, so no dashboard is written.
      probe("PutDashboard",
            [](const ProbeContext&) {
              return QueryParams{{"DashboardName", kProbeName}, {"DashboardBody", "not a dashboard"}};
            }),
      probe("GetDashboard", by_dashboard),
      probe("ListDashboards",
            [](const ProbeContext&) {
              return QueryParams{{"DashboardNamePrefix", kProbeName}};
            }),
      probe("DeleteDashboards",
            [](const ProbeContext&) {
              return QueryParams{{"DashboardNames.member.1", kProbeName}};
            }),
      // Statistic and ExtendedStatistic together are rejected by AWS, and the
      // unknown EvaluateLowSampleCountPercentile option by moto, so no alarm
      // is made.
      probe("PutMetricAlarm",
            [](const ProbeContext&) {
              return QueryParams{{"AlarmName", kProbeName},
                                 {"Namespace", "HiveMindDoctorProbe"},
                                 {"MetricName", kProbeName},
                                 {"Statistic", "Average"},
                                 {"ExtendedStatistic", "p99"},
                                 {"EvaluateLowSampleCountPercentile", kProbeName},
                                 {"Period", "60"},
                                 {"EvaluationPeriods", "1"},
                                 {"Threshold", "1"},
                                 {"ComparisonOperator", "GreaterThanThreshold"}};
            }),
      probe("DescribeAlarms",
            [](const ProbeContext&) {
              return QueryParams{{"AlarmNamePrefix", kProbeName}};
            }),
      probe("DeleteAlarms",
            [](const ProbeContext&) {
              return QueryParams{{"AlarmNames.member.1", kProbeName}};
            }),
      probe("TagResource",
            [](const ProbeContext& context) {
              return QueryParams{{"ResourceARN", arn(context, "cloudwatch", "alarm:hivemind-doctor-probe")},
                                 {"Tags.member.1.Key", kProbeName},
                                 {"Tags.member.1.Value", kProbeName}};
            }),
  };
}

std::vector<Probe> other_probes() {
  auto by_name = [](const ProbeContext&) { return json{{"Name", "/hivemind-doctor-probe/missing"}}; };
  return {
      // An unknown parameter type is rejected, so nothing is stored.
      json_probe("SSM", ssm_service(), "PutParameter",
                 [](const ProbeContext&) {
                   return json{{"Name", "/hivemind-doctor-probe/missing"}, {"Value", "probe"}, {"Type", kProbeName}};
                 }),
      json_probe("SSM", ssm_service(), "GetParameter", by_name),
      json_probe("SSM", ssm_service(), "DeleteParameter", by_name),
      json_probe("SSM", ssm_service(), "GetParametersByPath",
                 [](const ProbeContext&) {
                   return json{{"Path", "/hivemind-doctor-probe/"}, {"MaxResults", 1}};
                 }),
      json_probe("SSM", ssm_service(), "AddTagsToResource",
                 [](const ProbeContext&) {
                   return json{{"ResourceType", "Parameter"},
                               {"ResourceId", "/hivemind-doctor-probe/missing"},
                               {"Tags", json::array({{{"Key", kProbeName}, {"Value", kProbeName}}})}};
                 }),
      // NOTE: AWS bills Cost Explorer per API request; an End before Start is
      // rejected, but whether a rejected request is billed is not documented.
      json_probe("Cost Explorer", cost_explorer_service(), "GetCostAndUsage",
                 [](const ProbeContext&) {
                   return json{{"TimePeriod", {{"Start", "2024-01-02"}, {"End", "2024-01-01"}}},
                               {"Granularity", "DAILY"},
                               {"Metrics", json::array({"UnblendedCost"})}};
                 }),
      json_probe("Resource Groups Tagging", tagging_service(), "GetResources",
                 [](const ProbeContext&) {
                   return json{{"TagFilters", json::array({{{"Key", kProbeName}}})}, {"ResourcesPerPage", 1}};
                 }),
  };
}

const std::vector<Probe>& all_probes() {
  static const std::vector<Probe> probes = [] {
    std::vector<Probe> all;
    for (auto group :
         {ec2_probes(), elbv2_probes(), rds_probes(), logs_probes(), cloudwatch_probes(), other_probes()}) {
      all.insert(all.end(), group.begin(), group.end());
    }
    return all;
  }();
  return probes;
}

bool is_denial(const std::string& code) {
  static const std::set<std::string> kDenials = {"AccessDenied",          "AccessDeniedException",
                                                 "UnauthorizedOperation", "UnauthorizedException",
                                                 "AuthorizationError",    "AuthorizationErrorException"};
  return kDenials.count(code) > 0;
}

ActionCheck run_probe(AwsClient& client, const Probe& probe, const ProbeContext& context) {
  std::optional<AwsError> error;
  if (probe.query) {
    QueryParams params = probe.query(context);
    if (probe.service == &ec2_service()) params.emplace_back("DryRun", "true");
    AwsResult<XmlResponse> response = client.query(*probe.service, probe.operation, params);
    if (!response.ok()) error = std::move(response).error();
  } else {
    AwsResult<JsonResponse> response = client.json(*probe.service, probe.operation, probe.body(context));
    if (!response.ok()) error = std::move(response).error();
  }

  ActionCheck check{probe.label, probe.action, Verdict::kUnknown, {}};
  check.verdict = classify_probe(error ? &*error : nullptr, check.detail);
  return check;
}

// Maps each action to its service label, for the simulation's results.
std::map<std::string, std::string> labels_by_action() {
  std::map<std::string, std::string> labels;
  for (const ServicePermissions& group : required_permissions()) {
    for (const std::string& action : group.actions) labels[action] = group.label;
  }
  return labels;
}

std::vector<std::string> all_actions() {
  std::vector<std::string> actions;
  for (const ServicePermissions& group : required_permissions()) {
    actions.insert(actions.end(), group.actions.begin(), group.actions.end());
  }
  return actions;
}

}  // namespace

const std::vector<ServicePermissions>& required_permissions() {
  static const std::vector<ServicePermissions> groups = [] {
    std::vector<ServicePermissions> result;
    for (const Probe& probe : all_probes()) {
      if (result.empty() || result.back().label != probe.label) {
        result.push_back(ServicePermissions{probe.label, probe.service, {}});
      }
      result.back().actions.push_back(probe.action);
    }
    return result;
  }();
  return groups;
}

int Report::count(Verdict verdict) const {
  int total = 0;
  for (const ActionCheck& check : checks) total += check.verdict == verdict ? 1 : 0;
  return total;
}

Verdict classify_probe(const AwsError* error, std::string& detail) {
  if (error == nullptr) {
    detail = "call succeeded";
    return Verdict::kAllowed;
  }
  if (error->kind != ErrorKind::kService) {
    detail = "no answer: " + error->code + " " + error->message;
    return Verdict::kUnknown;
  }
  if (error->code == "DryRunOperation") {
    detail = "DryRunOperation";
    return Verdict::kAllowed;
  }
  if (is_denial(error->code)) {
    detail = "denied: " + error->code;
    return Verdict::kMissing;
  }
  if (error->http_status >= 500 || error->code == "NotImplemented") {
    detail = "could not check: " + error->code + " (HTTP " + std::to_string(error->http_status) + ")";
    return Verdict::kUnknown;
  }
  detail = "authorized; the probe's placeholder input was rejected with " + error->code;
  return Verdict::kAllowed;
}

Report probe_permissions(AwsClient& client, const ProbeContext& context) {
  Report report;
  report.method = Method::kProbe;
  for (const Probe& probe : all_probes()) report.checks.push_back(run_probe(client, probe, context));
  return report;
}

Report check_permissions(AwsClient& client, AwsClient& iam_client, const std::string& caller_arn,
                         const ProbeContext& context) {
  auto logger = log::get("doctor");
  std::string principal = iam::principal_from_caller_arn(caller_arn);
  AwsResult<std::vector<iam::ActionDecision>> simulated =
      iam::simulate_principal_policy(iam_client, principal, all_actions());

  if (!simulated.ok()) {
    const AwsError& error = simulated.error();
    logger->info("iam:SimulatePrincipalPolicy for {} failed ({}: {}); checking with probe calls instead", principal,
                 error.code, error.message);
    Report report = probe_permissions(client, context);
    report.fallback_reason = "iam:SimulatePrincipalPolicy failed with " + error.code;
    return report;
  }

  Report report;
  report.method = Method::kSimulation;
  std::map<std::string, std::string> labels = labels_by_action();
  for (const iam::ActionDecision& decision : *simulated) {
    Verdict verdict = decision.allowed() ? Verdict::kAllowed : Verdict::kMissing;
    report.checks.push_back(ActionCheck{labels[decision.action], decision.action, verdict, decision.decision});
  }
  return report;
}

}  // namespace hivemind::aws::permissions
