#include "sandbox/address_map.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sandbox/process.h"

namespace hivemind::sandbox {
namespace {

using nlohmann::json;

Error not_mapped(std::string_view kind, std::string_view key) {
  return make_error("sandbox.not_mapped",
                    fmt::format("The sandbox address map has no {} '{}'; HiveMind never connects to the address "
                                "moto reported.",
                                kind, key),
                    "Check `hivemind sandbox status`: the sandbox daemon adds an entry once the resource exists "
                    "in moto and its local stand-in is up.");
}

json endpoint_to_json(const Endpoint& endpoint) { return json{{"host", endpoint.host}, {"port", endpoint.port}}; }

Endpoint endpoint_from_json(const json& value) {
  return Endpoint{value.at("host").get<std::string>(), value.at("port").get<std::uint16_t>()};
}

std::string normalize_url(std::string_view url) {
  std::string text(url);
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

std::string Endpoint::to_string() const { return fmt::format("{}:{}", host, port); }

Result<HostEntry> AddressMap::host(std::string_view instance_id) const {
  auto found = hosts.find(std::string(instance_id));
  if (found == hosts.end()) return fail(not_mapped("instance", instance_id));
  return found->second;
}

Result<Endpoint> AddressMap::load_balancer(std::string_view dns_name, std::uint16_t listener_port) const {
  auto found = load_balancers.find(std::string(dns_name));
  if (found == load_balancers.end() || found->second.listeners.empty()) {
    return fail(not_mapped("load balancer", dns_name));
  }
  const auto& listeners = found->second.listeners;
  if (listener_port == 0) return listeners.begin()->second;
  auto listener = listeners.find(listener_port);
  if (listener == listeners.end()) {
    return fail(not_mapped("listener", fmt::format("{}:{}", dns_name, listener_port)));
  }
  return listener->second;
}

Result<Endpoint> AddressMap::database(std::string_view address, std::uint16_t port) const {
  std::string key = fmt::format("{}:{}", address, port);
  auto found = databases.find(key);
  if (found == databases.end()) return fail(not_mapped("database endpoint", key));
  return found->second.local;
}

std::filesystem::path address_map_path(const std::filesystem::path& state_dir) {
  return state_dir / "sandbox" / "address-map.json";
}

std::string address_map_to_json(const AddressMap& map) {
  json hosts = json::object();
  for (const auto& [id, host] : map.hosts) {
    hosts[id] = json{{"ssh_host", host.ssh_host},
                     {"ssh_port", host.ssh_port},
                     {"ssh_user", host.ssh_user},
                     {"private_address", host.private_address}};
  }
  json load_balancers = json::object();
  for (const auto& [dns, balancer] : map.load_balancers) {
    json listeners = json::object();
    for (const auto& [port, endpoint] : balancer.listeners)
      listeners[std::to_string(port)] = endpoint_to_json(endpoint);
    load_balancers[dns] =
        json{{"name", balancer.name}, {"listeners", listeners}, {"stats_socket", balancer.stats_socket}};
  }
  json databases = json::object();
  for (const auto& [key, database] : map.databases) {
    databases[key] = json{{"instance_id", database.instance_id},
                          {"engine", database.engine},
                          {"local", endpoint_to_json(database.local)},
                          {"from_hosts", endpoint_to_json(database.from_hosts)}};
  }
  json document{{"version", 1},
                {"moto_endpoint", map.moto_endpoint},
                {"hosts", hosts},
                {"load_balancers", load_balancers},
                {"databases", databases}};
  return document.dump(2) + "\n";
}

Result<AddressMap> address_map_from_json(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return fail(make_error("sandbox.invalid_address_map", "The sandbox address map is not a JSON object.",
                           "Run `hivemind sandbox down` and `hivemind sandbox up` to write it again."));
  }
  try {
    AddressMap map;
    map.moto_endpoint = document.at("moto_endpoint").get<std::string>();
    const json hosts = document.value("hosts", json::object());
    const json load_balancers = document.value("load_balancers", json::object());
    const json databases = document.value("databases", json::object());
    for (const auto& [id, host] : hosts.items()) {
      map.hosts[id] =
          HostEntry{host.at("ssh_host").get<std::string>(), host.at("ssh_port").get<std::uint16_t>(),
                    host.at("private_address").get<std::string>(), host.value("ssh_user", std::string("ec2-user"))};
    }
    for (const auto& [dns, balancer] : load_balancers.items()) {
      LoadBalancerEntry entry;
      entry.name = balancer.value("name", std::string());
      entry.stats_socket = balancer.value("stats_socket", std::string());
      for (const auto& [port, endpoint] : balancer.at("listeners").items()) {
        entry.listeners[static_cast<std::uint16_t>(std::stoi(port))] = endpoint_from_json(endpoint);
      }
      map.load_balancers[dns] = std::move(entry);
    }
    for (const auto& [key, database] : databases.items()) {
      map.databases[key] =
          DatabaseEntry{database.at("instance_id").get<std::string>(), database.at("engine").get<std::string>(),
                        endpoint_from_json(database.at("local")), endpoint_from_json(database.at("from_hosts"))};
    }
    return map;
  } catch (const std::exception& error) {
    return fail(make_error("sandbox.invalid_address_map",
                           fmt::format("The sandbox address map is invalid: {}.", error.what()),
                           "Run `hivemind sandbox down` and `hivemind sandbox up` to write it again."));
  }
}

Result<AddressMap> read_address_map(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(make_error("sandbox.not_running", fmt::format("No sandbox address map at '{}'.", file.string()),
                           "Start the sandbox with `sudo hivemind sandbox up` (same --state-dir)."));
  }
  std::stringstream content;
  content << in.rdbuf();
  return address_map_from_json(content.str());
}

Status write_address_map(const std::filesystem::path& file, const AddressMap& map) {
  return write_file_atomically(file, address_map_to_json(map));
}

bool is_sandbox_endpoint(const AddressMap& map, std::string_view endpoint_url) {
  if (map.moto_endpoint.empty()) return false;
  return normalize_url(endpoint_url) == normalize_url(map.moto_endpoint);
}

}  // namespace hivemind::sandbox
