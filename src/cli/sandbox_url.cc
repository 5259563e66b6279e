#include "cli/sandbox_url.h"

#include <fmt/format.h>

#include "sandbox/address_map.h"

namespace hivemind::cli {

std::string sandbox_local_url(const std::string& state_dir, const std::string& url) {
  std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return {};
  Result<sandbox::AddressMap> map = sandbox::read_address_map(sandbox::address_map_path(state_dir));
  if (!map) return {};
  Result<sandbox::Endpoint> proxy = map->load_balancer(url.substr(prefix.size()));
  if (!proxy) return {};
  return fmt::format("http://{}:{}", proxy->host, proxy->port);
}

}  // namespace hivemind::cli
