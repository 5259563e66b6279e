#include "sandbox/reconciler.h"

#include <fmt/format.h>

#include <map>

#include "aws/curl_transport.h"
#include "common/log.h"
#include "sandbox/database.h"
#include "sandbox/host.h"
#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

bool instance_gone(const std::string& state) { return state == "terminated" || state == "shutting-down"; }

// Keeps the first failure of a pass while the pass goes on.
void keep_first(Status& first, Status status) {
  if (first && !status) first = std::move(status);
}

Error from_aws(const aws::AwsError& error) { return error.to_error(); }

}  // namespace

aws::ClientConfig sandbox_client_config(const SandboxSettings& settings) {
  aws::ClientConfig config;
  config.region = settings.region;
  config.credentials = aws::Credentials{"sandbox", "sandbox", "", "sandbox"};
  std::string url = settings.moto_endpoint;
  config.endpoint_for = [url](const aws::ServiceSpec&) { return url; };
  config.max_attempts = 2;
  config.transport.connect_timeout = std::chrono::seconds(2);
  config.transport.total_timeout = std::chrono::seconds(30);
  return config;
}

Reconciler::Reconciler(SandboxPaths paths, SandboxSettings settings, aws::AwsClient& client)
    : paths_(std::move(paths)),
      settings_(std::move(settings)),
      client_(client),
      proxies_(paths_, settings_.proxy_base_port),
      log_shipping_(paths_, client_) {
  if (auto previous = read_address_map(paths_.address_map()); previous) {
    for (const auto& [id, host] : previous->hosts) {
      if (host_exists(id)) map_.hosts[id] = host;
    }
    for (const auto& [key, database] : previous->databases) {
      if (fs::exists(paths_.databases_dir() / database.instance_id)) map_.databases[key] = database;
    }
  }
  map_.moto_endpoint = settings_.moto_endpoint;
}

Status Reconciler::reconcile_once() {
  Status result = ok_unit();
  keep_first(result, reconcile_hosts());
  keep_first(result, log_shipping_.ship(map_.hosts));
  keep_first(result, reconcile_proxies());
  keep_first(result, reconcile_databases());
  keep_first(result, write_map());
  return result;
}

Status Reconciler::reconcile_hosts() {
  auto instances = describe_instances(client_);
  if (!instances) return fail(from_aws(instances.error()));

  Status result = ok_unit();
  std::map<std::string, std::string> states;
  for (const InstanceView& instance : *instances) {
    states[instance.instance_id] = instance.state;
    if (instance.state == "running" && map_.hosts.count(instance.instance_id) == 0) {
      keep_first(result, add_host(instance));
    }
  }

  for (auto it = map_.hosts.begin(); it != map_.hosts.end();) {
    auto state = states.find(it->first);
    if (state != states.end() && !instance_gone(state->second)) {
      ++it;
      continue;
    }
    log::get("sandbox")->info("instance {} is {}; tearing its host down", it->first,
                              state == states.end() ? "gone" : state->second);
    keep_first(result, destroy_host(paths_, it->first));
    it = map_.hosts.erase(it);
  }
  return result;
}

Status Reconciler::add_host(const InstanceView& instance) {
  std::string public_key;
  if (!instance.key_name.empty()) {
    auto key = describe_public_key(client_, instance.key_name);
    if (!key) return fail(from_aws(key.error()));
    public_key = *key;
  } else {
    log::get("sandbox")->warn("instance {} has no key pair; its host accepts no SSH login", instance.instance_id);
  }

  std::string address = allocate_address();
  if (address.empty()) {
    return fail(make_error("sandbox.no_address",
                           fmt::format("No free sandbox address for instance {}.", instance.instance_id),
                           "Terminate instances: the sandbox holds at most 241 hosts."));
  }
  Status status = create_host(paths_, HostSpec{instance.instance_id, address, public_key});
  if (!status) return status;
  map_.hosts[instance.instance_id] = HostEntry{address, 22, address, kHostUser};
  return ok_unit();
}

std::string Reconciler::allocate_address() const {
  std::set<std::string> used;
  for (const auto& [_, host] : map_.hosts) used.insert(host.private_address);
  for (int octet = kFirstHostOctet; octet <= kLastHostOctet; ++octet) {
    std::string address = fmt::format("198.18.0.{}", octet);
    if (used.count(address) == 0) return address;
  }
  return {};
}

Status Reconciler::reconcile_proxies() {
  auto balancers = describe_load_balancers(client_);
  if (!balancers) return fail(from_aws(balancers.error()));
  auto groups = describe_target_groups(client_);
  if (!groups) return fail(from_aws(groups.error()));

  std::map<std::string, std::string> group_names;  // arn -> name
  ProxyConfig config;
  for (const TargetGroupView& group : *groups) {
    group_names[group.arn] = group.name;
    ProxyBackend backend{group.name, group.health_check, {}};
    for (const TargetView& target : group.targets) {
      auto host = map_.hosts.find(target.instance_id);
      if (host == map_.hosts.end()) continue;  // its host is not up yet
      backend.targets.push_back(
          ProxyTarget{target.instance_id, host->second.private_address, target.port != 0 ? target.port : group.port});
    }
    config.backends.push_back(std::move(backend));
  }

  std::map<std::string, LoadBalancerEntry> entries;
  std::vector<std::pair<std::string, std::uint16_t>> listeners;
  for (const LoadBalancerView& balancer : *balancers) {
    LoadBalancerEntry entry{balancer.name, {}, proxies_.stats_socket()};
    for (const ListenerView& listener : balancer.listeners) {
      std::uint16_t local = proxies_.local_port(balancer.name, listener.port);
      listeners.emplace_back(balancer.name, listener.port);
      config.frontends.push_back(
          ProxyFrontend{balancer.name, listener.port, local, group_names[listener.target_group_arn]});
      entry.listeners[listener.port] = Endpoint{"127.0.0.1", local};
    }
    entries[balancer.dns_name] = std::move(entry);
  }
  proxies_.retain_ports(listeners);

  Status status = proxies_.apply(std::move(config));
  if (status) map_.load_balancers = std::move(entries);
  return status;
}

Status Reconciler::reconcile_databases() {
  auto instances = describe_db_instances(client_);
  if (!instances) return fail(from_aws(instances.error()));

  Status result = ok_unit();
  std::set<std::string> alive;
  for (const DbInstanceView& db : *instances) {
    if (db.status == "deleting") continue;
    alive.insert(db.id);
    std::string key = fmt::format("{}:{}", db.endpoint_address, db.endpoint_port);
    if (map_.databases.count(key) == 0) keep_first(result, add_database(db));
  }

  for (auto it = map_.databases.begin(); it != map_.databases.end();) {
    if (alive.count(it->second.instance_id) != 0) {
      ++it;
      continue;
    }
    log::get("sandbox")->info("DB instance {} is gone; removing its database server", it->second.instance_id);
    keep_first(result, remove_database(paths_.databases_dir() / it->second.instance_id));
    reported_.erase(it->second.instance_id);
    it = map_.databases.erase(it);
  }
  return result;
}

Status Reconciler::add_database(const DbInstanceView& db) {
  auto logger = log::get("sandbox");
  auto parameter = db.tags.find(kPasswordParameterTag);
  if (parameter == db.tags.end()) {
    Error error =
        make_error("sandbox.password_unknown",
                   fmt::format("DB instance {} has no tag {}, so the sandbox cannot learn its master password.", db.id,
                               kPasswordParameterTag),
                   "Tag the instance with the name of the SSM SecureString parameter that holds the password.");
    if (reported_.insert(db.id).second) logger->warn("{}", error.describe());
    return fail(std::move(error));
  }
  auto password = read_secure_parameter(client_, parameter->second);
  if (!password) return fail(from_aws(password.error()));

  std::uint16_t port = allocate_database_port();
  DatabaseSpec spec{db.id, db.engine, db.master_username, *password, db.db_name, port};
  Status status = start_database(paths_.databases_dir() / db.id, spec);
  if (!status) {
    if (reported_.insert(db.id).second) logger->error("{}", status.error().describe());
    return status;
  }
  std::string key = fmt::format("{}:{}", db.endpoint_address, db.endpoint_port);
  map_.databases[key] = DatabaseEntry{db.id, db.engine, Endpoint{"127.0.0.1", port}, Endpoint{kBridgeAddress, port}};
  return ok_unit();
}

std::uint16_t Reconciler::allocate_database_port() const {
  std::set<std::uint16_t> used;
  for (const auto& [_, database] : map_.databases) used.insert(database.local.port);
  std::uint16_t port = settings_.database_base_port;
  while (used.count(port) != 0) ++port;
  return port;
}

Status Reconciler::write_map() {
  std::string text = address_map_to_json(map_);
  if (text == written_map_) return ok_unit();
  std::error_code error;
  fs::create_directories(paths_.root, error);
  if (Status status = write_file_atomically(paths_.address_map(), text); !status) return status;
  written_map_ = std::move(text);
  return ok_unit();
}

void Reconciler::teardown() {
  for (const auto& [id, _] : map_.hosts) (void)destroy_host(paths_, id);
  map_.hosts.clear();
  proxies_.stop();
  map_.load_balancers.clear();
  for (const auto& [_, database] : map_.databases) (void)remove_database(paths_.databases_dir() / database.instance_id);
  map_.databases.clear();
  (void)write_map();
}

}  // namespace hivemind::sandbox
