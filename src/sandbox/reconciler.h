#pragma once

// The heart of the sandbox daemon: reads moto and makes the local stand-ins
// match it. Running instances become hosts, load balancers become haproxy
// frontends, DB instances become local database servers, and the address
// map is rewritten whenever one of them changes. Each pass also ships the
// hosts' logs and metrics as the CloudWatch agent would. Not thread safe: one loop
// owns a Reconciler.

#include <cstdint>
#include <set>
#include <string>

#include "aws/client.h"
#include "common/result.h"
#include "sandbox/address_map.h"
#include "sandbox/log_shipping.h"
#include "sandbox/moto_reader.h"
#include "sandbox/paths.h"
#include "sandbox/proxy.h"

namespace hivemind::sandbox {

inline constexpr std::uint16_t kDefaultMotoPort = 47100;
inline constexpr std::uint16_t kDefaultProxyBasePort = 47200;
inline constexpr std::uint16_t kDefaultDatabaseBasePort = 47300;

struct SandboxSettings {
  std::string moto_endpoint;  // "http://127.0.0.1:47100"
  std::string region = "us-east-1";
  std::uint16_t proxy_base_port = kDefaultProxyBasePort;
  std::uint16_t database_base_port = kDefaultDatabaseBasePort;
};

// A client for moto at settings.moto_endpoint with dummy credentials: moto
// without IAM authentication accepts any signature.
aws::ClientConfig sandbox_client_config(const SandboxSettings& settings);

class Reconciler {
 public:
  // Adopts the hosts and databases of an address map left by an earlier
  // daemon when their namespaces and folders still exist.
  Reconciler(SandboxPaths paths, SandboxSettings settings, aws::AwsClient& client);

  // Makes every stand-in match moto once. A failure of one resource is
  // logged and returned after the others were handled.
  Status reconcile_once();

  // Tears every host, proxy and database down and writes an empty map.
  void teardown();

  const AddressMap& address_map() const { return map_; }

 private:
  Status reconcile_hosts();
  Status add_host(const InstanceView& instance);
  Status reconcile_proxies();
  Status reconcile_databases();
  Status add_database(const DbInstanceView& db);
  std::string allocate_address() const;
  std::uint16_t allocate_database_port() const;
  Status write_map();

  SandboxPaths paths_;
  SandboxSettings settings_;
  aws::AwsClient& client_;
  ProxyManager proxies_;
  HostLogShipping log_shipping_;  // the CloudWatch agent's stand-in on each host
  AddressMap map_;
  std::string written_map_;
  std::set<std::string> reported_;  // resources whose failure was logged, so it is logged once
};

}  // namespace hivemind::sandbox
