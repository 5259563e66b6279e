#pragma once

// CurlTransport: the HttpTransport that real calls use, over libcurl.

#include "aws/http.h"

namespace hivemind::aws {

// Sends each request on its own libcurl easy handle, so any number of threads
// may call send() at once. Connection reuse across calls is traded away for
// that simplicity. Proxy settings from the environment (https_proxy,
// no_proxy, ...) apply as they do for curl itself.
//
// Failures come back as TransportError: a refused connection, a name that
// does not resolve, a connect or total timeout, a reset or truncated
// response, a response over options.max_response_bytes, and TLS failures.
class CurlTransport : public HttpTransport {
 public:
  CurlTransport();

  Result<HttpResponse, TransportError> send(const HttpRequest& request, const TransportOptions& options) override;
};

// Returns a description of a TransportFailure for messages: "connection refused".
const char* describe(TransportFailure failure);

}  // namespace hivemind::aws
