#pragma once

// Plain HTTP request and response values shared by the signer, the protocol
// serializers and the transport. Building a request and sending it are kept
// apart so that requests and signatures can be tested as exact strings.

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace hivemind::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // "GET", "POST", ...
  // Absolute URL: scheme, host, optional port, path (percent-encoded as it
  // goes on the wire) and optional query string.
  std::string url;
  HeaderList headers;  // in insertion order; names compared case-insensitively
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
};

}  // namespace hivemind::aws

#include <chrono>
#include <cstddef>

namespace hivemind::aws {

// Why a request got no HTTP response at all.
enum class TransportFailure {
  kConnectionRefused,
  kDnsFailure,
  kTimeout,
  kConnectionReset,
  kResponseTooLarge,
  kTls,
  kOther,
};

struct TransportError {
  TransportFailure failure = TransportFailure::kOther;
  std::string message;  // what the transport reported, with the URL
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
  std::size_t max_response_bytes = 64 * 1024 * 1024;
};

// Sends one HTTP request and returns the response, or why there was none.
// Implementations are safe to call from several threads at once.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse, TransportError> send(const HttpRequest& request, const TransportOptions& options) = 0;
};

}  // namespace hivemind::aws
