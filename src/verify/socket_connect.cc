#include "verify/socket_connect.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace hivemind::verify {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

Diagnosis classify_errno(int error) {
  if (error == ECONNREFUSED) return Diagnosis::kRefused;
  if (error == ETIMEDOUT) return Diagnosis::kTimedOut;
  return Diagnosis::kUnreachable;
}

// Connects one socket; returns 0 or the errno of the failure.
int connect_one(int fd, const addrinfo& address, std::chrono::milliseconds timeout) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (connect(fd, address.ai_addr, address.ai_addrlen) == 0) {
    fcntl(fd, F_SETFL, flags);
    return 0;
  }
  if (errno != EINPROGRESS) return errno;

  pollfd waiting{fd, POLLOUT, 0};
  int ready = poll(&waiting, 1, static_cast<int>(timeout.count()));
  if (ready == 0) return ETIMEDOUT;
  if (ready < 0) return errno;

  int error = 0;
  socklen_t length = sizeof(error);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error == 0) fcntl(fd, F_SETFL, flags);
  return error;
}

}  // namespace

ConnectOutcome connect_with_timeout(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  ConnectOutcome outcome;
  if (host.empty() || port == 0) {
    outcome.diagnosis = Diagnosis::kInvalidRequest;
    outcome.error = "empty host or port 0";
    return outcome;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int resolved = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (resolved != 0) {
    outcome.diagnosis = Diagnosis::kUnreachable;
    outcome.error = std::string("name not resolved: ") + gai_strerror(resolved);
    return outcome;
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> addresses(found);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  int last_error = ETIMEDOUT;
  for (addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    last_error = connect_one(fd, *address, left);
    if (last_error == 0) {
      outcome.fd = fd;
      return outcome;
    }
    close(fd);
  }

  outcome.diagnosis = classify_errno(last_error);
  outcome.error = std::strerror(last_error);
  return outcome;
}

}  // namespace hivemind::verify
