#include "infra/plan.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/strings.h"

namespace hivemind::infra {
namespace {

struct KindName {
  ResourceKind kind;
  const char* name;
};

constexpr std::array kKindNames = {
    KindName{ResourceKind::kVpc, "ec2:vpc"},
    KindName{ResourceKind::kInternetGateway, "ec2:internet-gateway"},
    KindName{ResourceKind::kSubnet, "ec2:subnet"},
    KindName{ResourceKind::kRouteTable, "ec2:route-table"},
    KindName{ResourceKind::kSecurityGroup, "ec2:security-group"},
    KindName{ResourceKind::kKeyPair, "ec2:key-pair"},
    KindName{ResourceKind::kLogGroup, "logs:log-group"},
    KindName{ResourceKind::kDbPassword, "ssm:parameter"},
    KindName{ResourceKind::kDbSubnetGroup, "rds:subnet-group"},
    KindName{ResourceKind::kDbInstance, "rds:db-instance"},
    KindName{ResourceKind::kInstance, "ec2:instance"},
    KindName{ResourceKind::kLoadBalancer, "elasticloadbalancing:loadbalancer"},
    KindName{ResourceKind::kTargetGroup, "elasticloadbalancing:targetgroup"},
    KindName{ResourceKind::kListener, "elasticloadbalancing:listener"},
    KindName{ResourceKind::kDashboard, "cloudwatch:dashboard"},
    KindName{ResourceKind::kAlarm, "cloudwatch:alarm"},
};

constexpr const char* kVpcCidr = "10.0.0.0/16";
constexpr int kMaxUserTags = 40;  // AWS allows 50 tags a resource; HiveMind uses up to 4 and keeps a margin

// Validates an IPv4 CIDR such as "203.0.113.7/32".
bool is_ipv4_cidr(const std::string& cidr) {
  std::vector<std::string> address_and_bits = split(cidr, '/');
  if (address_and_bits.size() != 2) return false;
  std::vector<std::string> octets = split(address_and_bits[0], '.');
  if (octets.size() != 4) return false;
  auto in_range = [](const std::string& text, int max) {
    if (text.empty() || text.size() > 3) return false;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    return std::stoi(text) <= max;
  };
  return std::all_of(octets.begin(), octets.end(), [&](const std::string& octet) { return in_range(octet, 255); }) &&
         in_range(address_and_bits[1], 32);
}

Status check_inputs(const PlanInputs& inputs) {
  if (inputs.deployment_id.empty() || inputs.app_name.empty()) {
    return fail(make_error("plan.missing_identity", "The plan needs a deployment id and an app name."));
  }
  if (inputs.web_service && inputs.app_port == 0) {
    return fail(make_error("plan.missing_port",
                           "The app is a web service, but the analysis found no port that it listens on.",
                           "Run `hivemind analyze` on the repository to see what was read, then set `port` in "
                           "hivemind.toml at the repository root, or `web_service = false` for a worker."));
  }
  if (inputs.web_service && (inputs.app_port < 0 || inputs.app_port > 65535)) {
    return fail(
        make_error("plan.missing_port",
                   fmt::format("The app is a web service but its port {} is not a valid TCP port.", inputs.app_port),
                   "Set `port` in hivemind.toml at the repository root."));
  }
  if (inputs.database && *inputs.database != "postgres" && *inputs.database != "mysql") {
    return fail(make_error("plan.unsupported_database",
                           fmt::format("Database engine \"{}\" is not supported.", *inputs.database),
                           "Use postgres or mysql, or deploy with --no-db."));
  }
  if (!inputs.ssh_cidr.empty() && !is_ipv4_cidr(inputs.ssh_cidr)) {
    return fail(make_error("plan.invalid_ssh_cidr",
                           fmt::format("SSH CIDR \"{}\" is not an IPv4 CIDR.", inputs.ssh_cidr),
                           "Pass --ssh-cidr with your address as a /32, e.g. 203.0.113.7/32."));
  }
  if (static_cast<int>(inputs.user_tags.size()) > kMaxUserTags) {
    return fail(make_error(
        "plan.too_many_tags",
        fmt::format("{} user tags were given; at most {} are allowed.", inputs.user_tags.size(), kMaxUserTags),
        "Pass fewer --tag options."));
  }
  for (const auto& [key, value] : inputs.user_tags) {
    if (key.empty() || key.size() > 128 || value.size() > 256) {
      return fail(make_error("plan.invalid_tag", fmt::format("Tag \"{}\" breaks AWS's limits.", key),
                             "Keys take 1 to 128 characters and values at most 256."));
    }
    if (starts_with(to_lower(key), "hivemind:") || starts_with(to_lower(key), "aws:")) {
      return fail(make_error("plan.reserved_tag", fmt::format("Tag key \"{}\" uses a reserved prefix.", key),
                             "Choose a key that does not start with hivemind: or aws:."));
    }
  }
  return ok_unit();
}

class PlanBuilder {
 public:
  explicit PlanBuilder(const PlanInputs& inputs) : inputs_(inputs) {}

  ResourceSpec& add(std::string name, ResourceKind kind, std::vector<std::string> depends_on) {
    ResourceSpec spec;
    spec.aws_name = fmt::format("{}-{}", inputs_.deployment_id, name);
    std::replace(spec.aws_name.begin(), spec.aws_name.end(), '_', '-');
    spec.name = std::move(name);
    spec.kind = kind;
    spec.depends_on = std::move(depends_on);
    spec.properties = nlohmann::json::object();
    plan_.resources.push_back(std::move(spec));
    return plan_.resources.back();
  }

  Plan take() { return std::move(plan_); }

 private:
  const PlanInputs& inputs_;
  Plan plan_;
};

void add_network(PlanBuilder& builder, const PlanInputs& inputs) {
  builder.add("vpc", ResourceKind::kVpc, {}).properties = {{"cidr", kVpcCidr}, {"dns_hostnames", true}};
  builder.add("internet_gateway", ResourceKind::kInternetGateway, {"vpc"});

  builder.add("subnet_public_a", ResourceKind::kSubnet, {"vpc"}).properties = {
      {"cidr", "10.0.1.0/24"}, {"zone_index", 0}, {"public", true}};
  builder.add("subnet_public_b", ResourceKind::kSubnet, {"vpc"}).properties = {
      {"cidr", "10.0.2.0/24"}, {"zone_index", 1}, {"public", true}};
  if (inputs.database) {
    builder.add("subnet_private_a", ResourceKind::kSubnet, {"vpc"}).properties = {
        {"cidr", "10.0.11.0/24"}, {"zone_index", 0}, {"public", false}};
    builder.add("subnet_private_b", ResourceKind::kSubnet, {"vpc"}).properties = {
        {"cidr", "10.0.12.0/24"}, {"zone_index", 1}, {"public", false}};
  }

  builder
      .add("route_table_public", ResourceKind::kRouteTable,
           {"vpc", "internet_gateway", "subnet_public_a", "subnet_public_b"})
      .properties = {{"default_route_via", "internet_gateway"}, {"subnets", {"subnet_public_a", "subnet_public_b"}}};
}

int database_port(const std::string& engine) { return engine == "mysql" ? 3306 : 5432; }

void add_security_groups(PlanBuilder& builder, const PlanInputs& inputs) {
  if (inputs.web_service) {
    builder.add("sg_load_balancer", ResourceKind::kSecurityGroup, {"vpc"}).properties = {
        {"description", "HiveMind load balancer: HTTP and HTTPS from anywhere"},
        {"ingress",
         {{{"port", 80}, {"cidr", "0.0.0.0/0"}, {"description", "HTTP from anywhere"}},
          {{"port", 443}, {"cidr", "0.0.0.0/0"}, {"description", "HTTPS from anywhere"}}}}};
  }

  nlohmann::json app_ingress = nlohmann::json::array();
  std::vector<std::string> app_depends_on = {"vpc"};
  if (inputs.web_service) {
    app_ingress.push_back({{"port", inputs.app_port},
                           {"source_group", "sg_load_balancer"},
                           {"description", "App port from the load balancer only"}});
    app_depends_on.push_back("sg_load_balancer");
  }
  if (!inputs.ssh_cidr.empty()) {
    app_ingress.push_back(
        {{"port", 22}, {"cidr", inputs.ssh_cidr}, {"description", "SSH from the deploying machine only"}});
  }
  builder.add("sg_app", ResourceKind::kSecurityGroup, app_depends_on).properties = {
      {"description", "HiveMind app host"}, {"ingress", app_ingress}};

  if (inputs.database) {
    builder.add("sg_database", ResourceKind::kSecurityGroup, {"vpc", "sg_app"}).properties = {
        {"description", "HiveMind database: its port from the app host only"},
        {"ingress",
         {{{"port", database_port(*inputs.database)},
           {"source_group", "sg_app"},
           {"description", "Database port from the app host only"}}}}};
  }
}

void add_database(PlanBuilder& builder, const PlanInputs& inputs) {
  const std::string& engine = *inputs.database;
  ResourceSpec& password = builder.add("db_password", ResourceKind::kDbPassword, {});
  password.aws_name = fmt::format("/hivemind/{}/db-password", inputs.deployment_id);
  password.properties = {{"type", "SecureString"}};

  builder.add("db_subnet_group", ResourceKind::kDbSubnetGroup, {"subnet_private_a", "subnet_private_b"}).properties = {
      {"subnets", {"subnet_private_a", "subnet_private_b"}}};

  ResourceSpec& database =
      builder.add("database", ResourceKind::kDbInstance, {"db_subnet_group", "sg_database", "db_password"});
  database.properties = {{"engine", engine},
                         {"instance_class", inputs.db_instance_class},
                         {"storage_gib", inputs.db_storage_gib},
                         {"port", database_port(engine)},
                         {"master_username", "hivemind"},
                         {"database_name", "app"},
                         {"password_parameter", "db_password"},
                         {"security_groups", {"sg_database"}},
                         {"publicly_accessible", false},
                         {"storage_encrypted", true}};
  database.cost = estimate_database(inputs.db_instance_class, engine, inputs.db_storage_gib, inputs.region);
}

void add_host(PlanBuilder& builder, const PlanInputs& inputs) {
  ResourceSpec& key = builder.add("key_pair", ResourceKind::kKeyPair, {});
  key.properties = {{"type", "ed25519"}};

  ResourceSpec& logs = builder.add("log_group", ResourceKind::kLogGroup, {});
  logs.aws_name = fmt::format("/hivemind/{}", inputs.deployment_id);
  logs.properties = {{"retention_days", inputs.log_retention_days}};
  logs.cost = estimate_log_group(inputs.region);

  ResourceSpec& instance = builder.add("instance", ResourceKind::kInstance,
                                       {"subnet_public_a", "sg_app", "key_pair", "route_table_public", "log_group"});
  instance.properties = {{"instance_type", inputs.instance_type},
                         {"ami", inputs.ami},
                         {"root_volume_gib", inputs.root_volume_gib},
                         {"subnet", "subnet_public_a"},
                         {"security_groups", {"sg_app"}},
                         {"key_pair", "key_pair"},
                         {"imds_tokens_required", true},
                         {"volume_encrypted", true}};
  MonthlyEstimate cost = estimate_instance(inputs.instance_type, inputs.root_volume_gib, inputs.region);
  MonthlyEstimate address = estimate_public_ipv4(inputs.region);
  instance.cost = {cost.usd + address.usd, cost.basis + " + " + address.basis};
}

void add_load_balancer(PlanBuilder& builder, const PlanInputs& inputs) {
  ResourceSpec& balancer =
      builder.add("load_balancer", ResourceKind::kLoadBalancer,
                  {"subnet_public_a", "subnet_public_b", "sg_load_balancer", "route_table_public"});
  balancer.aws_name = bounded_name(inputs.deployment_id, "alb", 32);
  balancer.properties = {{"subnets", {"subnet_public_a", "subnet_public_b"}},
                         {"security_groups", {"sg_load_balancer"}},
                         {"scheme", "internet-facing"}};
  balancer.cost = estimate_load_balancer(2, inputs.region);

  const HealthCheckSettings& health = inputs.health_check;
  ResourceSpec& target_group = builder.add("target_group", ResourceKind::kTargetGroup, {"vpc"});
  target_group.aws_name = bounded_name(inputs.deployment_id, "tg", 32);
  target_group.properties = {{"port", inputs.app_port},
                             {"protocol", "HTTP"},
                             {"health_check_path", health.path},
                             {"health_check_interval_seconds", health.interval_seconds},
                             {"health_check_timeout_seconds", health.timeout_seconds},
                             {"healthy_threshold", health.healthy_threshold},
                             {"unhealthy_threshold", health.unhealthy_threshold},
                             {"matcher", health.matcher},
                             {"deregistration_delay_seconds", 30}};

  bool https = !inputs.certificate_arn.empty();
  ResourceSpec& http = builder.add("listener_http", ResourceKind::kListener, {"load_balancer", "target_group"});
  http.properties = {{"port", 80}, {"protocol", "HTTP"}, {"action", https ? "redirect_https" : "forward"}};
  if (https) {
    ResourceSpec& secure = builder.add("listener_https", ResourceKind::kListener, {"load_balancer", "target_group"});
    secure.properties = {{"port", 443},
                         {"protocol", "HTTPS"},
                         {"action", "forward"},
                         {"certificate_arn", inputs.certificate_arn},
                         {"ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06"}};
  }
}

}  // namespace

const char* kind_name(ResourceKind kind) {
  for (const KindName& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}

std::optional<ResourceKind> parse_kind_name(const std::string& name) {
  for (const KindName& entry : kKindNames) {
    if (name == entry.name) return entry.kind;
  }
  return std::nullopt;
}

const ResourceSpec* Plan::find(const std::string& name) const {
  for (const ResourceSpec& resource : resources) {
    if (resource.name == name) return &resource;
  }
  return nullptr;
}

double Plan::monthly_usd() const {
  double total = 0.0;
  for (const ResourceSpec& resource : resources) total += resource.cost.usd;
  return total;
}

std::string bounded_name(const std::string& deployment_id, const std::string& suffix, size_t max_length) {
  std::string name = deployment_id + "-" + suffix;
  if (name.size() <= max_length) return name;

  // Keep the id's tail (its random part) and the suffix; mark the cut with a
  // short hash of the whole id so that two long ids cannot collide.
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(deployment_id.data()), deployment_id.size(), digest);
  std::string hash = fmt::format("{:02x}{:02x}", digest[0], digest[1]);
  size_t room = max_length - suffix.size() - hash.size() - 2;
  std::string tail = deployment_id.substr(deployment_id.size() - std::min(room, deployment_id.size()));
  while (!tail.empty() && tail.front() == '-') tail.erase(0, 1);
  return hash + "-" + tail + "-" + suffix;
}

std::map<std::string, std::string> resource_tags(const PlanInputs& inputs, const ResourceSpec& resource) {
  std::map<std::string, std::string> tags = inputs.user_tags;
  tags[kDeploymentTagKey] = inputs.deployment_id;
  tags[kAppTagKey] = inputs.app_name;
  tags[kResourceTagKey] = resource.name;
  tags["Name"] = resource.aws_name;
  return tags;
}

Result<Plan> build_plan(const PlanInputs& inputs) {
  if (Status checked = check_inputs(inputs); !checked) return fail(checked.error());

  PlanBuilder builder(inputs);
  add_network(builder, inputs);
  add_security_groups(builder, inputs);
  if (inputs.database) add_database(builder, inputs);
  add_host(builder, inputs);
  if (inputs.web_service) add_load_balancer(builder, inputs);
  return builder.take();
}

}  // namespace hivemind::infra
