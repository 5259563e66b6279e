#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "aws/rds.h"
#include "aws/ssm.h"
#include "common/log.h"
#include "infra/handlers.h"

namespace hivemind::infra {
namespace {

using aws::AwsError;
using aws::AwsResult;

bool is_code(const AwsError& error, std::initializer_list<const char*> codes) {
  for (const char* code : codes) {
    if (error.code == code) return true;
  }
  return false;
}

// Codes that mean the resource is gone already.
constexpr std::initializer_list<const char*> kNotFoundCodes = {
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidKeyPair.NotFound",
    "InvalidInstanceID.NotFound",
    "InvalidAssociationID.NotFound",
    "Gateway.NotAttached",
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
    "ResourceNotFoundException",
    "ParameterNotFound",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "DBSubnetGroupNotFoundFault",
    "DBSubnetGroupNotFound",
    "ResourceNotFound",  // CloudWatch DeleteDashboards of a dashboard that is gone
};

// Codes that mean something else still uses the resource, which goes away
// once its blocker is deleted.
constexpr std::initializer_list<const char*> kInUseCodes = {"DependencyViolation", "ResourceInUse",
                                                            "InvalidDBSubnetGroupStateFault", "InvalidDBInstanceState",
                                                            "InvalidDBInstanceStateFault"};

struct DeleteStep {
  InfraContext& context;
  const state::Resource& resource;
  ResourceKind kind;
  bool gone_before = false;  // AWS returned not found, so nothing was deleted here

  // Sends `call` until it succeeds, the resource is gone, or the in-use
  // retries run out.
  Status run(const std::function<AwsResult<Unit>()>& call) {
    std::chrono::milliseconds delay = context.wait.first_delay;
    for (int attempt = 0;; ++attempt) {
      AwsResult<Unit> result = call();
      if (result) return ok_unit();
      if (is_code(result.error(), kNotFoundCodes)) {
        gone_before = true;
        return ok_unit();
      }
      if (!is_code(result.error(), kInUseCodes) || attempt >= context.wait.dependency_retries) {
        return fail(record_aws_failure(context, resource.logical_name, result.error()));
      }
      context.emit({ResourceEvent::Kind::kWaiting, resource.logical_name, resource.kind, resource.physical_id,
                    fmt::format("{} is still in use ({}); trying again", resource.physical_id, result.error().code),
                    std::chrono::milliseconds(0)});
      if (context.wait.sleep) {
        context.wait.sleep(delay);
      } else {
        std::this_thread::sleep_for(delay);
      }
      delay = std::min(delay * 2, context.wait.max_delay);
    }
  }

  Status wait_gone(const std::string& what, const std::function<Result<bool>()>& gone) {
    return context.wait_until(resource.logical_name, kind, what, gone);
  }
};

Status delete_instance(DeleteStep& step) {
  aws::AwsClient& client = step.context.client();
  const std::string& id = step.resource.physical_id;
  Status sent = step.run([&]() -> AwsResult<Unit> {
    auto result = aws::ec2::terminate_instances(client, {id});
    if (!result) return fail(result.error());
    return ok_unit();
  });
  if (!sent) return sent;
  return step.wait_gone("terminate", [&]() -> Result<bool> {
    auto listed = aws::ec2::describe_instances(client, {id});
    if (!listed) {
      if (is_code(listed.error(), kNotFoundCodes)) return true;
      return fail(record_aws_failure(step.context, step.resource.logical_name, listed.error()));
    }
    return listed->empty() || listed->front().state == "terminated";
  });
}

Status delete_database(DeleteStep& step) {
  aws::AwsClient& client = step.context.client();
  const std::string& id = step.resource.physical_id;
  std::string snapshot;
  if (!step.context.skip_final_snapshot) {
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    snapshot = fmt::format("{}-final-{}", id, seconds);
  }
  Status sent = step.run([&]() -> AwsResult<Unit> {
    auto result = aws::rds::delete_db_instance(client, id, snapshot);
    if (!result) return fail(result.error());
    return ok_unit();
  });
  if (!sent) return sent;
  if (!snapshot.empty()) {
    step.context.emit({ResourceEvent::Kind::kDeleting, step.resource.logical_name, step.resource.kind, id,
                       fmt::format("final snapshot {}", snapshot), std::chrono::milliseconds(0)});
  }
  return step.wait_gone("be deleted", [&]() -> Result<bool> {
    auto listed = aws::rds::describe_db_instances(client, id);
    if (!listed) {
      if (is_code(listed.error(), kNotFoundCodes)) return true;
      return fail(record_aws_failure(step.context, step.resource.logical_name, listed.error()));
    }
    return listed->empty();
  });
}

Status delete_load_balancer(DeleteStep& step) {
  aws::AwsClient& client = step.context.client();
  const std::string& arn = step.resource.physical_id;
  Status sent = step.run([&] { return aws::elbv2::delete_load_balancer(client, arn); });
  if (!sent) return sent;
  return step.wait_gone("be deleted", [&]() -> Result<bool> {
    auto listed = aws::elbv2::describe_load_balancers(client, {arn});
    if (!listed) {
      if (is_code(listed.error(), kNotFoundCodes)) return true;
      return fail(record_aws_failure(step.context, step.resource.logical_name, listed.error()));
    }
    return listed->empty();
  });
}

Status delete_route_table(DeleteStep& step) {
  aws::AwsClient& client = step.context.client();
  const std::string& id = step.resource.physical_id;
  auto tables = aws::ec2::describe_route_tables(client, {id});
  if (!tables) {
    if (is_code(tables.error(), kNotFoundCodes)) {
      step.gone_before = true;
      return ok_unit();
    }
    return fail(record_aws_failure(step.context, step.resource.logical_name, tables.error()));
  }
  for (const auto& table : *tables) {
    for (const auto& association : table.associations) {
      if (association.subnet_id.empty()) continue;
      Status detached = step.run([&] { return aws::ec2::disassociate_route_table(client, association.id); });
      if (!detached) return detached;
    }
  }
  return step.run([&] { return aws::ec2::delete_route_table(client, id); });
}

Status delete_internet_gateway(DeleteStep& step) {
  aws::AwsClient& client = step.context.client();
  const std::string& id = step.resource.physical_id;
  auto gateways = aws::ec2::describe_internet_gateways(client, {id});
  if (!gateways) {
    if (is_code(gateways.error(), kNotFoundCodes)) {
      step.gone_before = true;
      return ok_unit();
    }
    return fail(record_aws_failure(step.context, step.resource.logical_name, gateways.error()));
  }
  for (const auto& gateway : *gateways) {
    for (const std::string& vpc : gateway.attached_vpc_ids) {
      Status detached = step.run([&] { return aws::ec2::detach_internet_gateway(client, id, vpc); });
      if (!detached) return detached;
    }
  }
  return step.run([&] { return aws::ec2::delete_internet_gateway(client, id); });
}

// Sends the delete calls of one resource kind.
Status run_delete(DeleteStep& step, aws::AwsClient& client, const std::string& id) {
  switch (step.kind) {
    case ResourceKind::kInstance:
      return delete_instance(step);
    case ResourceKind::kDbInstance:
      return delete_database(step);
    case ResourceKind::kLoadBalancer:
      return delete_load_balancer(step);
    case ResourceKind::kRouteTable:
      return delete_route_table(step);
    case ResourceKind::kInternetGateway:
      return delete_internet_gateway(step);
    case ResourceKind::kListener:
      return step.run([&] { return aws::elbv2::delete_listener(client, id); });
    case ResourceKind::kTargetGroup:
      return step.run([&] { return aws::elbv2::delete_target_group(client, id); });
    case ResourceKind::kSecurityGroup:
      return step.run([&] { return aws::ec2::delete_security_group(client, id); });
    case ResourceKind::kSubnet:
      return step.run([&] { return aws::ec2::delete_subnet(client, id); });
    case ResourceKind::kVpc:
      return step.run([&] { return aws::ec2::delete_vpc(client, id); });
    case ResourceKind::kKeyPair:
      return step.run([&] { return aws::ec2::delete_key_pair(client, id); });
    case ResourceKind::kLogGroup:
      return step.run([&] { return aws::logs::delete_log_group(client, id); });
    case ResourceKind::kDbPassword:
      return step.run([&] { return aws::ssm::delete_parameter(client, id); });
    case ResourceKind::kDbSubnetGroup:
      return step.run([&] { return aws::rds::delete_subnet_group(client, id); });
    case ResourceKind::kDashboard:
      return step.run([&] { return aws::cloudwatch::delete_dashboards(client, {id}); });
    case ResourceKind::kAlarm:
      return step.run([&] { return aws::cloudwatch::delete_alarms(client, {id}); });
  }
  return ok_unit();
}

}  // namespace

Status delete_resource(InfraContext& context, const state::Resource& resource, bool* already_gone) {
  if (already_gone) *already_gone = false;
  std::optional<ResourceKind> kind = parse_kind_name(resource.kind);
  if (!kind) {
    return fail(make_error("infra.unknown_kind",
                           fmt::format("Resource {} has unknown kind {}.", resource.logical_name, resource.kind),
                           "Delete it by hand in the AWS console; this version of HiveMind cannot."));
  }
  if (resource.physical_id.empty()) return ok_unit();

  aws::AwsClient& client = context.client();
  const std::string& id = resource.physical_id;
  DeleteStep step{context, resource, *kind};
  Status status = run_delete(step, client, id);
  if (status && already_gone) *already_gone = step.gone_before;
  return status;
}

}  // namespace hivemind::infra
