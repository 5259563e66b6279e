#pragma once

// A TCP connect bounded by a timeout, shared by the TCP and TLS checks.

#include <chrono>
#include <cstdint>
#include <string>

#include "verify/overwatch.h"

namespace hivemind::verify {

struct ConnectOutcome {
  int fd = -1;  // a connected blocking socket, owned by the caller; -1 on failure
  Diagnosis diagnosis = Diagnosis::kNone;
  std::string error;  // on failure: the system's message
};

// Resolves `host` and connects to the first address that accepts within
// `timeout` (the whole budget, shared between addresses).
ConnectOutcome connect_with_timeout(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace hivemind::verify
