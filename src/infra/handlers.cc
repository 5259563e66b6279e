#include "infra/handlers.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "aws/rds.h"
#include "aws/ssm.h"
#include "common/log.h"
#include "infra/user_data.h"
#include "remote/keys.h"

namespace hivemind::infra {
namespace {

using aws::AwsError;
using aws::AwsResult;

constexpr const char* kTokenTag = "hivemind:token";

bool is_code(const AwsError& error, std::initializer_list<const char*> codes) {
  for (const char* code : codes) {
    if (error.code == code) return true;
  }
  return false;
}

// The physical id of a dependency that a property names, e.g. "vpc".
Result<std::string> dependency_id(InfraContext& context, const std::string& logical_name) {
  return context.physical_id(logical_name);
}

Result<std::vector<std::string>> dependency_ids(InfraContext& context, const nlohmann::json& names) {
  std::vector<std::string> ids;
  for (const auto& name : names) {
    Result<std::string> id = context.physical_id(name.get<std::string>());
    if (!id) return fail(id.error());
    ids.push_back(*id);
  }
  return ids;
}

std::vector<aws::Filter> token_filter(const std::string& token) { return {aws::tag_filter(kTokenTag, {token})}; }

// Generates a database master password of letters and digits, which every
// engine accepts.
Secret generate_password() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof(bytes));
  std::string text;
  for (unsigned char byte : bytes) text += kAlphabet[byte % (sizeof(kAlphabet) - 1)];
  return Secret(std::move(text));
}

std::filesystem::path private_key_path(const InfraContext& context) {
  return context.deployment_dir() / "keys" / "id_ed25519";
}

// ---- find_existing -------------------------------------------------------

Result<std::optional<CreatedResource>> find_ec2(InfraContext& context, const ResourceSpec& spec,
                                                const std::string& token) {
  aws::AwsClient& client = context.client();
  auto found_one = [&](auto result, auto id_of) -> Result<std::optional<CreatedResource>> {
    if (!result) return fail(record_aws_failure(context, spec.name, result.error()));
    for (const auto& item : *result) {
      CreatedResource created;
      created.physical_id = id_of(item);
      return std::optional<CreatedResource>(created);
    }
    return std::optional<CreatedResource>();
  };

  switch (spec.kind) {
    case ResourceKind::kVpc:
      return found_one(aws::ec2::describe_vpcs(client, {}, token_filter(token)),
                       [](const aws::ec2::Vpc& vpc) { return vpc.id; });
    case ResourceKind::kInternetGateway:
      return found_one(aws::ec2::describe_internet_gateways(client, {}, token_filter(token)),
                       [](const aws::ec2::InternetGateway& gateway) { return gateway.id; });
    case ResourceKind::kSubnet:
      return found_one(aws::ec2::describe_subnets(client, {}, token_filter(token)),
                       [](const aws::ec2::Subnet& subnet) { return subnet.id; });
    case ResourceKind::kRouteTable:
      return found_one(aws::ec2::describe_route_tables(client, {}, token_filter(token)),
                       [](const aws::ec2::RouteTable& table) { return table.id; });
    case ResourceKind::kSecurityGroup:
      return found_one(aws::ec2::describe_security_groups(client, {}, token_filter(token)),
                       [](const aws::ec2::SecurityGroup& group) { return group.id; });
    case ResourceKind::kInstance: {
      auto listed = aws::ec2::describe_instances(client, {}, token_filter(token));
      if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
      for (const aws::ec2::Instance& instance : *listed) {
        if (instance.state == "terminated" || instance.state == "shutting-down") continue;
        return std::optional<CreatedResource>(CreatedResource{instance.id, "", nlohmann::json::object()});
      }
      return std::optional<CreatedResource>();
    }
    case ResourceKind::kKeyPair: {
      auto listed = aws::ec2::describe_key_pairs(client, {}, {aws::tag_filter(kTokenTag, {token})});
      if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
      if (listed->empty()) return std::optional<CreatedResource>();
      return std::optional<CreatedResource>(CreatedResource{listed->front().name, "", nlohmann::json::object()});
    }
    default:
      return std::optional<CreatedResource>();
  }
}

bool belongs_to_deployment(const aws::Tags& tags, const InfraContext& context) {
  return aws::find_tag(tags, kDeploymentTagKey) == context.inputs().deployment_id;
}

// Named resources: a name is unique in the account and region, so an earlier
// run's resource is found by name, then checked to carry this deployment's tag.
Result<std::optional<CreatedResource>> find_named(InfraContext& context, const ResourceSpec& spec) {
  aws::AwsClient& client = context.client();
  switch (spec.kind) {
    case ResourceKind::kLoadBalancer: {
      auto listed = aws::elbv2::describe_load_balancers(client, {}, {spec.aws_name});
      if (!listed) {
        if (is_code(listed.error(), {"LoadBalancerNotFound"})) return std::optional<CreatedResource>();
        return fail(record_aws_failure(context, spec.name, listed.error()));
      }
      if (listed->empty()) return std::optional<CreatedResource>();
      const aws::elbv2::LoadBalancer& balancer = listed->front();
      return std::optional<CreatedResource>(
          CreatedResource{balancer.arn, balancer.arn, {{"dns_name", balancer.dns_name}}});
    }
    case ResourceKind::kTargetGroup: {
      auto listed = aws::elbv2::describe_target_groups(client, {});
      if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
      for (const aws::elbv2::TargetGroup& group : *listed) {
        if (group.name == spec.aws_name) {
          return std::optional<CreatedResource>(CreatedResource{group.arn, group.arn, {{"port", group.port}}});
        }
      }
      return std::optional<CreatedResource>();
    }
    case ResourceKind::kListener: {
      Result<std::string> balancer = dependency_id(context, "load_balancer");
      if (!balancer) return fail(balancer.error());
      auto listed = aws::elbv2::describe_listeners(client, *balancer);
      if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
      int port = spec.properties.value("port", 0);
      for (const aws::elbv2::Listener& listener : *listed) {
        if (listener.port == port) return std::optional<CreatedResource>(CreatedResource{listener.arn, listener.arn});
      }
      return std::optional<CreatedResource>();
    }
    case ResourceKind::kLogGroup: {
      auto listed = aws::logs::describe_log_groups(client, spec.aws_name);
      if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
      for (const aws::logs::LogGroup& group : *listed) {
        if (group.name == spec.aws_name) return std::optional<CreatedResource>(CreatedResource{group.name, group.arn});
      }
      return std::optional<CreatedResource>();
    }
    case ResourceKind::kDbPassword: {
      auto parameter = aws::ssm::get_parameter(client, spec.aws_name, /*with_decryption=*/false);
      if (!parameter) {
        if (is_code(parameter.error(), {"ParameterNotFound"})) return std::optional<CreatedResource>();
        return fail(record_aws_failure(context, spec.name, parameter.error()));
      }
      return std::optional<CreatedResource>(CreatedResource{spec.aws_name, parameter->arn});
    }
    case ResourceKind::kDbSubnetGroup: {
      auto listed = aws::rds::describe_subnet_groups(client, spec.aws_name);
      if (!listed) {
        if (is_code(listed.error(), {"DBSubnetGroupNotFoundFault"})) return std::optional<CreatedResource>();
        return fail(record_aws_failure(context, spec.name, listed.error()));
      }
      if (listed->empty()) return std::optional<CreatedResource>();
      return std::optional<CreatedResource>(CreatedResource{listed->front().name, listed->front().arn});
    }
    case ResourceKind::kDbInstance: {
      auto listed = aws::rds::describe_db_instances(client, spec.aws_name);
      if (!listed) {
        if (is_code(listed.error(), {"DBInstanceNotFound", "DBInstanceNotFoundFault"})) {
          return std::optional<CreatedResource>();
        }
        return fail(record_aws_failure(context, spec.name, listed.error()));
      }
      // The identifier contains the deployment id; a tag list, where the
      // describe call returns one, must agree.
      if (listed->empty() || (!listed->front().tags.empty() && !belongs_to_deployment(listed->front().tags, context))) {
        return std::optional<CreatedResource>();
      }
      return std::optional<CreatedResource>(CreatedResource{listed->front().id, listed->front().arn});
    }
    default:
      return std::optional<CreatedResource>();
  }
}

// ---- create --------------------------------------------------------------

std::vector<aws::ec2::IngressRule> ingress_rules(InfraContext& context, const ResourceSpec& spec,
                                                 Result<Unit>& status) {
  std::vector<aws::ec2::IngressRule> rules;
  status = ok_unit();
  for (const auto& entry : spec.properties.value("ingress", nlohmann::json::array())) {
    aws::ec2::IngressRule rule;
    rule.from_port = entry["port"].get<int>();
    rule.to_port = rule.from_port;
    rule.description = entry.value("description", "");
    if (entry.contains("cidr")) {
      rule.cidr_block = entry["cidr"].get<std::string>();
    } else {
      Result<std::string> source = dependency_id(context, entry["source_group"].get<std::string>());
      if (!source) {
        status = fail(source.error());
        return {};
      }
      rule.source_group_id = *source;
    }
    rules.push_back(rule);
  }
  return rules;
}

template <typename T, typename Make>
Result<CreatedResource> created_from(InfraContext& context, const ResourceSpec& spec, AwsResult<T> result, Make make) {
  if (!result) return fail(record_aws_failure(context, spec.name, result.error()));
  return make(*result);
}

Result<CreatedResource> create_instance(InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  const nlohmann::json& properties = spec.properties;
  aws::ec2::RunInstancesRequest request;
  request.instance_type = properties["instance_type"].get<std::string>();
  request.root_volume_gib = properties["root_volume_gib"].get<int>();
  request.client_token = token;
  request.instance_tags = tags_for(context, spec, token);
  request.volume_tags = request.instance_tags;

  request.image_id = properties.value("ami", "");
  if (request.image_id.empty()) {
    AwsResult<std::string> image = aws::ssm::latest_al2023_ami(context.client());
    if (!image) return fail(record_aws_failure(context, spec.name, image.error()));
    request.image_id = *image;
  }

  Result<std::string> subnet = dependency_id(context, properties["subnet"].get<std::string>());
  if (!subnet) return fail(subnet.error());
  request.subnet_id = *subnet;
  Result<std::vector<std::string>> groups = dependency_ids(context, properties["security_groups"]);
  if (!groups) return fail(groups.error());
  request.security_group_ids = *groups;
  Result<std::string> key = dependency_id(context, properties["key_pair"].get<std::string>());
  if (!key) return fail(key.error());
  request.key_name = *key;
  Result<std::string> log_group = dependency_id(context, "log_group");
  if (!log_group) return fail(log_group.error());
  request.user_data = build_user_data(context.inputs(), *log_group);

  return created_from(context, spec, aws::ec2::run_instance(context.client(), request),
                      [](const aws::ec2::Instance& instance) {
                        return CreatedResource{instance.id, "", {{"image_id", instance.image_id}}};
                      });
}

Result<CreatedResource> create_key_pair(InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  std::filesystem::path key_file = private_key_path(context);
  std::error_code ignored;
  std::filesystem::create_directories(key_file.parent_path(), ignored);
  std::filesystem::permissions(key_file.parent_path(), std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ignored);

  std::string comment = fmt::format("hivemind {}", context.inputs().deployment_id);
  Result<remote::KeyPair> pair = std::filesystem::exists(key_file) ? remote::load_key_pair(key_file, comment)
                                                                   : remote::generate_key_pair(key_file, comment);
  if (!pair) return fail(pair.error());

  return created_from(
      context, spec,
      aws::ec2::import_key_pair(context.client(), spec.aws_name, pair->public_key, tags_for(context, spec, token)),
      [&](const aws::ec2::KeyPair& imported) {
        return CreatedResource{imported.name,
                               "",
                               {{"key_pair_id", imported.id},
                                {"private_key_file", key_file.string()},
                                {"fingerprint", pair->fingerprint}}};
      });
}

Result<CreatedResource> create_database(InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  const nlohmann::json& properties = spec.properties;
  Result<std::string> parameter_name = dependency_id(context, properties["password_parameter"].get<std::string>());
  if (!parameter_name) return fail(parameter_name.error());
  AwsResult<aws::ssm::Parameter> password = aws::ssm::get_parameter(context.client(), *parameter_name, true);
  if (!password) return fail(record_aws_failure(context, spec.name, password.error()));

  aws::rds::CreateDbInstanceRequest request;
  request.id = spec.aws_name;
  request.engine = properties["engine"].get<std::string>();
  request.instance_class = properties["instance_class"].get<std::string>();
  request.allocated_storage_gib = properties["storage_gib"].get<int>();
  request.db_name = properties["database_name"].get<std::string>();
  request.master_username = properties["master_username"].get<std::string>();
  request.master_password = password->value;
  Result<std::string> subnet_group = dependency_id(context, "db_subnet_group");
  if (!subnet_group) return fail(subnet_group.error());
  request.subnet_group_name = *subnet_group;
  Result<std::vector<std::string>> groups = dependency_ids(context, properties["security_groups"]);
  if (!groups) return fail(groups.error());
  request.security_group_ids = *groups;
  request.tags = tags_for(context, spec, token);
  // Tells the sandbox (and a human) where the master password lives.
  request.tags.push_back({"hivemind:password-parameter", *parameter_name});

  return created_from(context, spec, aws::rds::create_db_instance(context.client(), request),
                      [](const aws::rds::DbInstance& database) {
                        return CreatedResource{database.id, database.arn, nlohmann::json::object()};
                      });
}

Result<CreatedResource> create_listener(InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  Result<std::string> balancer = dependency_id(context, "load_balancer");
  if (!balancer) return fail(balancer.error());
  Result<std::string> group = dependency_id(context, "target_group");
  if (!group) return fail(group.error());

  aws::elbv2::CreateListenerRequest request;
  request.load_balancer_arn = *balancer;
  request.port = spec.properties["port"].get<int>();
  request.protocol = spec.properties["protocol"].get<std::string>();
  if (request.protocol == "HTTPS") {
    request.certificate_arn = spec.properties["certificate_arn"].get<std::string>();
    request.ssl_policy = spec.properties["ssl_policy"].get<std::string>();
  }
  request.default_action =
      spec.properties["action"] == "redirect_https" ? aws::elbv2::redirect_to_https() : aws::elbv2::forward_to(*group);
  request.tags = tags_for(context, spec, token);
  return created_from(context, spec, aws::elbv2::create_listener(context.client(), request),
                      [](const aws::elbv2::Listener& listener) {
                        return CreatedResource{listener.arn, listener.arn, nlohmann::json::object()};
                      });
}

Result<CreatedResource> create_network_resource(InfraContext& context, const ResourceSpec& spec,
                                                const std::string& token) {
  aws::AwsClient& client = context.client();
  aws::Tags tags = tags_for(context, spec, token);
  switch (spec.kind) {
    case ResourceKind::kVpc:
      return created_from(context, spec, aws::ec2::create_vpc(client, spec.properties["cidr"], tags),
                          [](const aws::ec2::Vpc& vpc) { return CreatedResource{vpc.id}; });
    case ResourceKind::kInternetGateway:
      return created_from(context, spec, aws::ec2::create_internet_gateway(client, tags),
                          [](const aws::ec2::InternetGateway& gateway) { return CreatedResource{gateway.id}; });
    case ResourceKind::kSubnet: {
      Result<std::string> vpc = dependency_id(context, "vpc");
      if (!vpc) return fail(vpc.error());
      Result<std::vector<std::string>> zones = context.zones();
      if (!zones) return fail(zones.error());
      const std::string& zone = (*zones)[spec.properties["zone_index"].get<size_t>() % zones->size()];
      return created_from(context, spec, aws::ec2::create_subnet(client, *vpc, spec.properties["cidr"], zone, tags),
                          [](const aws::ec2::Subnet& subnet) {
                            return CreatedResource{subnet.id, "", {{"availability_zone", subnet.availability_zone}}};
                          });
    }
    case ResourceKind::kRouteTable: {
      Result<std::string> vpc = dependency_id(context, "vpc");
      if (!vpc) return fail(vpc.error());
      return created_from(context, spec, aws::ec2::create_route_table(client, *vpc, tags, token),
                          [](const aws::ec2::RouteTable& table) { return CreatedResource{table.id}; });
    }
    case ResourceKind::kSecurityGroup: {
      Result<std::string> vpc = dependency_id(context, "vpc");
      if (!vpc) return fail(vpc.error());
      return created_from(
          context, spec,
          aws::ec2::create_security_group(client, spec.aws_name, spec.properties["description"], *vpc, tags),
          [](const std::string& id) { return CreatedResource{id}; });
    }
    default:
      return fail(make_error("infra.unknown_kind", fmt::format("No network handler for {}.", kind_name(spec.kind))));
  }
}

// ---- complete ------------------------------------------------------------

// Treats "already there" errors as success, so that completing an adopted
// resource again is harmless.
Status tolerate(InfraContext& context, const ResourceSpec& spec, AwsResult<Unit> result,
                std::initializer_list<const char*> already_codes) {
  if (result) return ok_unit();
  if (is_code(result.error(), already_codes)) return ok_unit();
  return fail(record_aws_failure(context, spec.name, result.error()));
}

Status complete_route_table(InfraContext& context, const ResourceSpec& spec, CreatedResource& created) {
  Result<std::string> gateway = dependency_id(context, spec.properties["default_route_via"].get<std::string>());
  if (!gateway) return fail(gateway.error());
  Status route =
      tolerate(context, spec, aws::ec2::create_route(context.client(), created.physical_id, "0.0.0.0/0", *gateway),
               {"RouteAlreadyExists"});
  if (!route) return route;

  auto tables = aws::ec2::describe_route_tables(context.client(), {created.physical_id});
  if (!tables) return fail(record_aws_failure(context, spec.name, tables.error()));
  nlohmann::json associations = nlohmann::json::object();
  for (const auto& subnet_name : spec.properties["subnets"]) {
    Result<std::string> subnet = dependency_id(context, subnet_name.get<std::string>());
    if (!subnet) return fail(subnet.error());
    std::string association_id;
    for (const auto& table : *tables) {
      for (const auto& association : table.associations) {
        if (association.subnet_id == *subnet) association_id = association.id;
      }
    }
    if (association_id.empty()) {
      AwsResult<std::string> associated =
          aws::ec2::associate_route_table(context.client(), created.physical_id, *subnet);
      if (!associated) return fail(record_aws_failure(context, spec.name, associated.error()));
      association_id = *associated;
    }
    associations[*subnet] = association_id;
  }
  created.attributes["associations"] = associations;
  return ok_unit();
}

Status complete_instance(InfraContext& context, const ResourceSpec& spec, CreatedResource& created) {
  Status running = context.wait_until(spec.name, spec.kind, "reach running", [&]() -> Result<bool> {
    auto listed = aws::ec2::describe_instances(context.client(), {created.physical_id});
    if (!listed) {
      // A new instance id may not be visible yet (eventual consistency).
      if (is_code(listed.error(), {"InvalidInstanceID.NotFound"})) return false;
      return fail(record_aws_failure(context, spec.name, listed.error()));
    }
    if (listed->empty()) return false;
    const aws::ec2::Instance& instance = listed->front();
    if (instance.state == "terminated" || instance.state == "shutting-down") {
      return fail(make_error("infra.instance_terminated",
                             fmt::format("Instance {} was {} while starting.", instance.id, instance.state),
                             "Check the instance's state reason in the EC2 console, then run `hivemind retry`."));
    }
    created.attributes["private_ip"] = instance.private_ip;
    created.attributes["public_ip"] = instance.public_ip;
    created.attributes["availability_zone"] = instance.availability_zone;
    created.attributes["http_tokens"] = instance.http_tokens;
    return instance.state == "running";
  });
  return running;
}

Status complete_database(InfraContext& context, const ResourceSpec& spec, CreatedResource& created) {
  return context.wait_until(spec.name, spec.kind, "become available", [&]() -> Result<bool> {
    auto listed = aws::rds::describe_db_instances(context.client(), created.physical_id);
    if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
    if (listed->empty()) return false;
    const aws::rds::DbInstance& database = listed->front();
    if (database.status == "failed" || database.status == "incompatible-parameters") {
      return fail(make_error("infra.database_failed",
                             fmt::format("RDS instance {} is in state {}.", database.id, database.status),
                             "Check its events in the RDS console, then run `hivemind rollback` and deploy again."));
    }
    created.attributes["endpoint_address"] = database.endpoint_address;
    created.attributes["endpoint_port"] = database.endpoint_port;
    created.attributes["engine"] = database.engine;
    created.attributes["master_username"] = database.master_username;
    created.attributes["database_name"] = database.db_name;
    created.attributes["password_parameter"] = spec.properties["password_parameter"];
    return database.status == "available";
  });
}

Status complete_load_balancer(InfraContext& context, const ResourceSpec& spec, CreatedResource& created) {
  return context.wait_until(spec.name, spec.kind, "become active", [&]() -> Result<bool> {
    auto listed = aws::elbv2::describe_load_balancers(context.client(), {created.physical_id});
    if (!listed) return fail(record_aws_failure(context, spec.name, listed.error()));
    if (listed->empty()) return false;
    const aws::elbv2::LoadBalancer& balancer = listed->front();
    if (balancer.state == "failed") {
      return fail(make_error("infra.load_balancer_failed",
                             fmt::format("Load balancer {} failed to provision.", balancer.name),
                             "Check it in the EC2 console under Load Balancers, then run `hivemind retry`."));
    }
    created.attributes["dns_name"] = balancer.dns_name;
    created.attributes["name"] = balancer.name;
    return balancer.state == "active";
  });
}

}  // namespace

aws::Tags tags_for(const InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  aws::Tags tags;
  for (const auto& [key, value] : resource_tags(context.inputs(), spec)) tags.push_back({key, value});
  tags.push_back({kTokenTag, token});
  return tags;
}

bool is_already_exists(const Error& error) {
  for (const char* code :
       {"aws.InvalidKeyPair.Duplicate", "aws.ResourceAlreadyExistsException", "aws.InvalidSubnet.Conflict",
        "aws.InvalidGroup.Duplicate", "aws.DuplicateLoadBalancerName", "aws.DuplicateTargetGroupName",
        "aws.DuplicateListener", "aws.DBInstanceAlreadyExists", "aws.DBSubnetGroupAlreadyExists",
        "aws.DBSubnetGroupAlreadyExistsFault", "aws.ParameterAlreadyExists", "aws.RouteAlreadyExists"}) {
    if (error.code == code) return true;
  }
  return false;
}

Result<int> remove_duplicates(InfraContext& context, const ResourceSpec& spec, const std::string& token,
                              const std::string& keep_id) {
  aws::AwsClient& client = context.client();
  std::vector<std::string> extra;
  auto collect = [&](auto result, auto id_of) -> Status {
    if (!result) return fail(record_aws_failure(context, spec.name, result.error()));
    for (const auto& item : *result) {
      std::string id = id_of(item);
      if (id != keep_id) extra.push_back(id);
    }
    return ok_unit();
  };

  Status listed = ok_unit();
  switch (spec.kind) {
    case ResourceKind::kVpc:
      listed = collect(aws::ec2::describe_vpcs(client, {}, token_filter(token)),
                       [](const aws::ec2::Vpc& vpc) { return vpc.id; });
      break;
    case ResourceKind::kInternetGateway:
      listed = collect(aws::ec2::describe_internet_gateways(client, {}, token_filter(token)),
                       [](const aws::ec2::InternetGateway& gateway) { return gateway.id; });
      break;
    case ResourceKind::kRouteTable:
      listed = collect(aws::ec2::describe_route_tables(client, {}, token_filter(token)),
                       [](const aws::ec2::RouteTable& table) { return table.id; });
      break;
    case ResourceKind::kInstance: {
      auto instances = aws::ec2::describe_instances(client, {}, token_filter(token));
      if (!instances) return fail(record_aws_failure(context, spec.name, instances.error()));
      for (const aws::ec2::Instance& instance : *instances) {
        if (instance.id != keep_id && instance.state != "terminated" && instance.state != "shutting-down") {
          extra.push_back(instance.id);
        }
      }
      break;
    }
    case ResourceKind::kLoadBalancer: {
      // AWS returns the first load balancer for a second CreateLoadBalancer
      // of the same name, but an emulator may make a second one.
      auto balancers = aws::elbv2::describe_load_balancers(client, {});
      if (!balancers) return fail(record_aws_failure(context, spec.name, balancers.error()));
      for (const aws::elbv2::LoadBalancer& balancer : *balancers) {
        if (balancer.name == spec.aws_name && balancer.arn != keep_id) extra.push_back(balancer.arn);
      }
      break;
    }
    case ResourceKind::kListener: {
      Result<std::string> balancer = dependency_id(context, "load_balancer");
      if (!balancer) return fail(balancer.error());
      auto listeners = aws::elbv2::describe_listeners(client, *balancer);
      if (!listeners) return fail(record_aws_failure(context, spec.name, listeners.error()));
      int port = spec.properties.value("port", 0);
      for (const aws::elbv2::Listener& listener : *listeners) {
        if (listener.port == port && listener.arn != keep_id) extra.push_back(listener.arn);
      }
      break;
    }
    case ResourceKind::kTargetGroup: {
      auto groups = aws::elbv2::describe_target_groups(client, {});
      if (!groups) return fail(record_aws_failure(context, spec.name, groups.error()));
      for (const aws::elbv2::TargetGroup& group : *groups) {
        if (group.name == spec.aws_name && group.arn != keep_id) extra.push_back(group.arn);
      }
      break;
    }
    default:
      return 0;
  }
  if (!listed) return fail(listed.error());

  for (const std::string& id : extra) {
    log::get("provisioner")->warn("{}: deleting duplicate {} made by a resent create call", spec.name, id);
    aws::AwsResult<Unit> removed = ok_unit();
    switch (spec.kind) {
      case ResourceKind::kVpc:
        removed = aws::ec2::delete_vpc(client, id);
        break;
      case ResourceKind::kInternetGateway:
        removed = aws::ec2::delete_internet_gateway(client, id);
        break;
      case ResourceKind::kRouteTable:
        removed = aws::ec2::delete_route_table(client, id);
        break;
      case ResourceKind::kInstance: {
        auto terminated = aws::ec2::terminate_instances(client, {id});
        if (!terminated) removed = fail(terminated.error());
        break;
      }
      case ResourceKind::kLoadBalancer:
        removed = aws::elbv2::delete_load_balancer(client, id);
        break;
      case ResourceKind::kTargetGroup:
        removed = aws::elbv2::delete_target_group(client, id);
        break;
      case ResourceKind::kListener:
        removed = aws::elbv2::delete_listener(client, id);
        break;
      default:
        break;
    }
    // A resent delete whose first send worked fails with "not found".
    if (!removed && removed.error().code.find("NotFound") == std::string::npos) {
      return fail(record_aws_failure(context, spec.name, removed.error()));
    }
  }
  return static_cast<int>(extra.size());
}

Result<std::optional<CreatedResource>> find_existing(InfraContext& context, const ResourceSpec& spec,
                                                     const std::string& token) {
  switch (spec.kind) {
    case ResourceKind::kLoadBalancer:
    case ResourceKind::kTargetGroup:
    case ResourceKind::kListener:
    case ResourceKind::kLogGroup:
    case ResourceKind::kDbPassword:
    case ResourceKind::kDbSubnetGroup:
    case ResourceKind::kDbInstance:
      return find_named(context, spec);
    default:
      return find_ec2(context, spec, token);
  }
}

Result<CreatedResource> create_resource(InfraContext& context, const ResourceSpec& spec, const std::string& token) {
  aws::AwsClient& client = context.client();
  aws::Tags tags = tags_for(context, spec, token);
  switch (spec.kind) {
    case ResourceKind::kVpc:
    case ResourceKind::kInternetGateway:
    case ResourceKind::kSubnet:
    case ResourceKind::kRouteTable:
    case ResourceKind::kSecurityGroup:
      return create_network_resource(context, spec, token);
    case ResourceKind::kKeyPair:
      return create_key_pair(context, spec, token);
    case ResourceKind::kInstance:
      return create_instance(context, spec, token);
    case ResourceKind::kLogGroup:
      return created_from(context, spec, aws::logs::create_log_group(client, spec.aws_name, tags),
                          [&](Unit) { return CreatedResource{spec.aws_name}; });
    case ResourceKind::kDbPassword: {
      aws::ssm::PutParameterRequest request;
      request.name = spec.aws_name;
      request.value = generate_password();
      request.type = "SecureString";
      request.description = fmt::format("Master password of deployment {}'s database", context.inputs().deployment_id);
      request.tags = tags;
      return created_from(context, spec, aws::ssm::put_parameter(client, request),
                          [&](long long) { return CreatedResource{spec.aws_name}; });
    }
    case ResourceKind::kDbSubnetGroup: {
      Result<std::vector<std::string>> subnets = dependency_ids(context, spec.properties["subnets"]);
      if (!subnets) return fail(subnets.error());
      return created_from(
          context, spec,
          aws::rds::create_subnet_group(client, spec.aws_name, "HiveMind database subnets", *subnets, tags),
          [](const aws::rds::SubnetGroup& group) {
            return CreatedResource{group.name, group.arn};
          });
    }
    case ResourceKind::kDbInstance:
      return create_database(context, spec, token);
    case ResourceKind::kLoadBalancer: {
      aws::elbv2::CreateLoadBalancerRequest request;
      request.name = spec.aws_name;
      Result<std::vector<std::string>> subnets = dependency_ids(context, spec.properties["subnets"]);
      if (!subnets) return fail(subnets.error());
      request.subnet_ids = *subnets;
      Result<std::vector<std::string>> groups = dependency_ids(context, spec.properties["security_groups"]);
      if (!groups) return fail(groups.error());
      request.security_group_ids = *groups;
      request.tags = tags;
      return created_from(context, spec, aws::elbv2::create_load_balancer(client, request),
                          [](const aws::elbv2::LoadBalancer& balancer) {
                            return CreatedResource{balancer.arn, balancer.arn, {{"dns_name", balancer.dns_name}}};
                          });
    }
    case ResourceKind::kTargetGroup: {
      aws::elbv2::CreateTargetGroupRequest request;
      request.name = spec.aws_name;
      request.port = spec.properties["port"].get<int>();
      request.protocol = spec.properties["protocol"].get<std::string>();
      Result<std::string> vpc = dependency_id(context, "vpc");
      if (!vpc) return fail(vpc.error());
      request.vpc_id = *vpc;
      request.health_check.path = spec.properties["health_check_path"].get<std::string>();
      request.health_check.interval_seconds = spec.properties["health_check_interval_seconds"].get<int>();
      request.health_check.timeout_seconds = spec.properties["health_check_timeout_seconds"].get<int>();
      request.health_check.healthy_threshold = spec.properties["healthy_threshold"].get<int>();
      request.health_check.unhealthy_threshold = spec.properties["unhealthy_threshold"].get<int>();
      request.health_check.matcher = spec.properties["matcher"].get<std::string>();
      request.tags = tags;
      return created_from(context, spec, aws::elbv2::create_target_group(client, request),
                          [](const aws::elbv2::TargetGroup& group) {
                            return CreatedResource{group.arn, group.arn, {{"port", group.port}}};
                          });
    }
    case ResourceKind::kListener:
      return create_listener(context, spec, token);
  }
  return fail(make_error("infra.unknown_kind", "Unknown resource kind."));
}

Status complete_resource(InfraContext& context, const ResourceSpec& spec, CreatedResource& created) {
  aws::AwsClient& client = context.client();
  switch (spec.kind) {
    case ResourceKind::kVpc:
      return tolerate(context, spec, aws::ec2::enable_dns_hostnames(client, created.physical_id, true), {});
    case ResourceKind::kInternetGateway: {
      Result<std::string> vpc = dependency_id(context, "vpc");
      if (!vpc) return fail(vpc.error());
      created.attributes["vpc_id"] = *vpc;
      return tolerate(context, spec, aws::ec2::attach_internet_gateway(client, created.physical_id, *vpc),
                      {"Resource.AlreadyAssociated"});
    }
    case ResourceKind::kSubnet:
      if (!spec.properties.value("public", false)) return ok_unit();
      return tolerate(context, spec, aws::ec2::set_map_public_ip_on_launch(client, created.physical_id, true), {});
    case ResourceKind::kRouteTable:
      return complete_route_table(context, spec, created);
    case ResourceKind::kSecurityGroup: {
      Status status = ok_unit();
      std::vector<aws::ec2::IngressRule> rules = ingress_rules(context, spec, status);
      if (!status) return status;
      if (rules.empty()) return ok_unit();
      return tolerate(context, spec, aws::ec2::authorize_ingress(client, created.physical_id, rules),
                      {"InvalidPermission.Duplicate"});
    }
    case ResourceKind::kLogGroup:
      return tolerate(
          context, spec,
          aws::logs::put_retention_policy(client, created.physical_id, spec.properties["retention_days"].get<int>()),
          {});
    case ResourceKind::kTargetGroup:
      return tolerate(context, spec,
                      aws::elbv2::set_deregistration_delay(client, created.physical_id,
                                                           spec.properties["deregistration_delay_seconds"].get<int>()),
                      {});
    case ResourceKind::kInstance:
      return complete_instance(context, spec, created);
    case ResourceKind::kDbInstance:
      return complete_database(context, spec, created);
    case ResourceKind::kLoadBalancer:
      return complete_load_balancer(context, spec, created);
    case ResourceKind::kKeyPair:
      created.attributes["private_key_file"] = private_key_path(context).string();
      return ok_unit();
    case ResourceKind::kDbPassword:
    case ResourceKind::kDbSubnetGroup:
    case ResourceKind::kListener:
      return ok_unit();
  }
  return ok_unit();
}

}  // namespace hivemind::infra
