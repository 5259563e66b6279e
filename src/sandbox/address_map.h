#pragma once

// The address map: the one file through which HiveMind reaches what it
// deployed into the sandbox. moto invents public addresses, DNS names and
// endpoints that belong to someone else on the internet; the sandbox writes
// <state_dir>/sandbox/address-map.json with the local address that stands in
// for each of them, and the deployer and verifier look every one up here.
// A lookup of anything the map does not contain is an error, never a fallback
// to the address moto reported.
//
// The file is rewritten atomically (temporary file and rename) on every
// change, so a reader sees a whole map. Values are plain data; no locking.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hivemind::sandbox {

struct Endpoint {
  std::string host;  // always a loopback or sandbox-namespace address
  std::uint16_t port = 0;

  std::string to_string() const;  // "127.0.0.1:18080"
};

// An EC2 instance's stand-in: a network namespace with sshd.
struct HostEntry {
  std::string ssh_host;         // address sshd listens on, e.g. 198.18.0.10
  std::uint16_t ssh_port = 22;  // port sshd listens on
  std::string private_address;  // the namespace's address, the same as ssh_host
  std::string ssh_user = "ec2-user";
};

// A load balancer's stand-in: one haproxy frontend per listener.
struct LoadBalancerEntry {
  std::string name;
  std::map<std::uint16_t, Endpoint> listeners;  // listener port -> local proxy address
  std::string stats_socket;                     // haproxy stats socket with the proxy's real health view
};

// A DB instance's stand-in: a database on the sandbox's local server.
struct DatabaseEntry {
  std::string instance_id;
  std::string engine;   // RDS engine: "postgres", "mysql" or "mariadb"
  Endpoint local;       // reached from this machine: 127.0.0.1:<port>
  Endpoint from_hosts;  // reached from inside a sandbox host: the bridge address and the same port
};

struct AddressMap {
  std::string moto_endpoint;                                // "http://127.0.0.1:4566"
  std::map<std::string, HostEntry> hosts;                   // instance id -> host
  std::map<std::string, LoadBalancerEntry> load_balancers;  // load balancer DNS name -> proxy
  std::map<std::string, DatabaseEntry> databases;           // RDS "address:port" -> local database

  // Each lookup returns the local stand-in, or a "sandbox.not_mapped" error
  // that names the key and the map file's role.
  Result<HostEntry> host(std::string_view instance_id) const;
  // The local address of a load balancer's listener; listener_port 0 picks
  // the lowest listener port.
  Result<Endpoint> load_balancer(std::string_view dns_name, std::uint16_t listener_port = 0) const;
  Result<Endpoint> database(std::string_view address, std::uint16_t port) const;
};

// The map file's path under a state folder: <state_dir>/sandbox/address-map.json.
std::filesystem::path address_map_path(const std::filesystem::path& state_dir);

std::string address_map_to_json(const AddressMap& map);
Result<AddressMap> address_map_from_json(std::string_view text);

Result<AddressMap> read_address_map(const std::filesystem::path& file);
Status write_address_map(const std::filesystem::path& file, const AddressMap& map);

// Returns whether `endpoint_url` (an AWS endpoint URL such as HiveMind's
// AWS_ENDPOINT_URL) is the sandbox's moto endpoint: the same scheme, host and
// port, ignoring a trailing slash. That is how HiveMind knows that it talks
// to the sandbox and must route every connection through the map.
bool is_sandbox_endpoint(const AddressMap& map, std::string_view endpoint_url);

}  // namespace hivemind::sandbox
