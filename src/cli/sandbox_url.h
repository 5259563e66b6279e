#pragma once

#include <string>

namespace hivemind::cli {

// Returns the local address ("http://127.0.0.1:47200") of the sandbox load
// balancer behind `url`, the URL that moto invented for it, read from the
// address map of `state_dir`. Returns an empty string when `url` is not
// http:// or the map is missing or does not know the load balancer, because
// moto's address belongs to someone else and is never a fallback.
std::string sandbox_local_url(const std::string& state_dir, const std::string& url);

}  // namespace hivemind::cli
