#include "conductor/verify_targets.h"

#include <fmt/format.h>

#include "aws/ssm.h"
#include "sandbox/address_map.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAwsUser = "ec2-user";

std::string text_attribute(const nlohmann::json& attributes, const char* key) {
  auto found = attributes.find(key);
  if (found == attributes.end()) return {};
  if (found->is_string()) return found->get<std::string>();
  if (found->is_number_integer()) return std::to_string(found->get<long long>());
  return {};
}

Result<sandbox::AddressMap> sandbox_map(const StageContext& context) {
  return sandbox::read_address_map(sandbox::address_map_path(context.state_dir));
}

Error missing_attribute(const std::string& resource, const char* attribute) {
  return make_error("verify.missing_attribute",
                    fmt::format("Resource {} has no {} recorded in state.", resource, attribute),
                    "Run `hivemind retry` so that the provision stage records it.");
}

}  // namespace

Result<std::optional<RecordedResource>> find_recorded(const StageContext& context, const std::string& logical_name) {
  auto found = context.store->find_resource(context.deployment.id, logical_name);
  if (!found) return fail(found.error());
  if (!found->has_value() || (*found)->status != state::ResourceStatus::created) {
    return std::optional<RecordedResource>{};
  }
  nlohmann::json attributes = nlohmann::json::parse((*found)->attributes_json, nullptr, false);
  if (attributes.is_discarded()) attributes = nlohmann::json::object();
  return std::optional<RecordedResource>(RecordedResource{(*found)->physical_id, std::move(attributes)});
}

Result<Address> instance_ssh_address(const StageContext& context, const RecordedResource& instance) {
  if (context.target == Target::kSandbox) {
    auto map = sandbox_map(context);
    if (!map) return fail(map.error());
    auto host = map->host(instance.physical_id);
    if (!host) return fail(host.error());
    return Address{host->ssh_host, host->ssh_port, host->ssh_user};
  }
  std::string public_ip = text_attribute(instance.attributes, "public_ip");
  if (public_ip.empty()) return fail(missing_attribute(instance.physical_id, "public_ip"));
  return Address{public_ip, 22, kAwsUser};
}

Result<Address> instance_app_address(const StageContext& context, const RecordedResource& instance, int app_port) {
  Result<Address> ssh = instance_ssh_address(context, instance);
  if (!ssh) return ssh;
  // A sandbox host's namespace address serves every port, as an instance's
  // public IP does on AWS when its security group allows it.
  return Address{ssh->host, static_cast<std::uint16_t>(app_port), {}};
}

Result<Address> load_balancer_address(const StageContext& context, const RecordedResource& balancer,
                                      std::uint16_t listener_port) {
  std::string dns_name = text_attribute(balancer.attributes, "dns_name");
  if (dns_name.empty()) return fail(missing_attribute(balancer.physical_id, "dns_name"));
  if (context.target != Target::kSandbox) return Address{dns_name, listener_port, {}};

  auto map = sandbox_map(context);
  if (!map) return fail(map.error());
  auto endpoint = map->load_balancer(dns_name, listener_port);
  if (!endpoint) return fail(endpoint.error());
  return Address{endpoint->host, endpoint->port, {}};
}

Result<Address> database_address(const StageContext& context, const RecordedResource& database) {
  std::string host = text_attribute(database.attributes, "endpoint_address");
  std::string port_text = text_attribute(database.attributes, "endpoint_port");
  if (host.empty() || port_text.empty()) return fail(missing_attribute(database.physical_id, "endpoint_address"));
  auto port = static_cast<std::uint16_t>(std::stoi(port_text));
  if (context.target != Target::kSandbox) return Address{host, port, {}};

  auto map = sandbox_map(context);
  if (!map) return fail(map.error());
  auto local = map->database(host, port);
  if (!local) return fail(local.error());
  return Address{local->host, local->port, {}};
}

Result<remote::Session> connect_instance(StageContext& context, const RecordedResource& instance) {
  Result<Address> address = instance_ssh_address(context, instance);
  if (!address) return fail(address.error());
  auto known = context.store->find_host_key(context.deployment.id, instance.physical_id);
  if (!known) return fail(known.error());

  remote::ConnectOptions options;
  options.host = address->host;
  options.port = address->port;
  options.user = address->user;
  options.private_key_file = context.paths.keys / "id_ed25519";
  if (auto key_pair = find_recorded(context, "key_pair"); key_pair && key_pair->has_value()) {
    std::string recorded = text_attribute((*key_pair)->attributes, "private_key_file");
    if (!recorded.empty()) options.private_key_file = recorded;
  }
  if (known->has_value()) options.expected_host_key_fingerprint = (*known)->fingerprint;
  options.connect_timeout = std::chrono::seconds(10);
  // The deploy stage has already waited for SSH, so one retry is enough.
  options.connect_attempts = 2;
  options.retry_delay = std::chrono::seconds(2);

  Result<remote::Session> session = remote::Session::connect(options);
  if (!session) return session;
  if (!known->has_value()) {
    state::HostKey key{context.deployment.id, instance.physical_id, session->host_key_fingerprint(),
                       std::chrono::system_clock::now()};
    Status remembered = context.store->remember_host_key(key);
    if (!remembered) return fail(remembered.error());
  }
  return session;
}

Result<Secret> read_database_password(StageContext& context, const RecordedResource& database) {
  std::string logical = text_attribute(database.attributes, "password_parameter");
  auto parameter = find_recorded(context, logical.empty() ? "db_password" : logical);
  if (!parameter) return fail(parameter.error());
  if (!parameter->has_value()) {
    return fail(make_error("verify.no_password_parameter",
                           fmt::format("The database {} has no password parameter recorded.", database.physical_id),
                           "Run `hivemind retry` so that the provision stage creates it."));
  }
  auto read = aws::ssm::get_parameter(*context.client, (*parameter)->physical_id, true);
  if (!read) {
    return fail(
        make_error("verify.password_unreadable",
                   fmt::format("Reading SSM parameter {} failed: {}", (*parameter)->physical_id, read.error().message),
                   "Grant ssm:GetParameter and kms:Decrypt on it."));
  }
  return read->value;
}

std::set<std::string> allowed_rules(const StageContext& context) {
  std::set<std::string> rules;
  nlohmann::json options = nlohmann::json::parse(context.deployment.options_json, nullptr, false);
  if (options.is_discarded() || !options.is_object()) return rules;
  auto found = options.find("allow_rules");
  if (found == options.end() || !found->is_array()) return rules;
  for (const auto& rule : *found) {
    if (rule.is_string()) rules.insert(rule.get<std::string>());
  }
  return rules;
}

}  // namespace hivemind::conductor
