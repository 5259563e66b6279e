#pragma once

// Plain HTTP request and response values shared by the signer, the protocol
// serializers and the transport. Building a request and sending it are kept
// apart so that requests and signatures can be tested as exact strings.

#include <string>
#include <utility>
#include <vector>

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
