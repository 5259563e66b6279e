#include "aws/curl_transport.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "common/strings.h"

namespace hivemind::aws {
namespace {

void initialize_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The response that the write and header callbacks fill in during one request.
struct Exchange {
  HttpResponse response;
  std::size_t max_body_bytes = 0;
  bool body_too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::size_t bytes = size * count;
  if (exchange->response.body.size() + bytes > exchange->max_body_bytes) {
    exchange->body_too_large = true;
    return 0;  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, bytes);
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::size_t bytes = size * count;
  const std::string_view line(data, bytes);

  // A status line starts a new header block (after "100 Continue", say), so
  // only the final response's headers are kept.
  if (starts_with(line, "HTTP/")) {
    exchange->response.headers.clear();
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    exchange->response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return bytes;
}

TransportFailure failure_of(CURLcode code, bool body_too_large) {
  if (body_too_large) return TransportFailure::kResponseTooLarge;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return TransportFailure::kConnectionRefused;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportFailure::kDnsFailure;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::kTimeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportFailure::kConnectionReset;
    case CURLE_FILESIZE_EXCEEDED:
      return TransportFailure::kResponseTooLarge;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return TransportFailure::kTls;
    default:
      return TransportFailure::kOther;
  }
}

// Returns the request's headers as a libcurl list. An empty "Expect:" stops
// libcurl from waiting for "100 Continue" before sending a large body.
std::unique_ptr<curl_slist, HeaderListDeleter> header_list(const HeaderList& headers) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    list = curl_slist_append(list, line.c_str());
  }
  list = curl_slist_append(list, "Expect:");
  return std::unique_ptr<curl_slist, HeaderListDeleter>(list);
}

void set_options(CURL* handle, const HttpRequest& request, const TransportOptions& options, Exchange& exchange,
                 curl_slist* headers, char* error_buffer) {
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  // An empty string enables every encoding libcurl supports, and decodes it.
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");

  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  // Timeouts use signals otherwise, which is unsafe in a threaded program.
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");

  exchange.max_body_bytes = options.max_response_bytes;
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
}

TransportError make_transport_error(const HttpRequest& request, CURLcode code, const Exchange& exchange,
                                    const char* error_buffer, const TransportOptions& options) {
  TransportError error;
  error.failure = failure_of(code, exchange.body_too_large);
  const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  const std::string target = request.method + " " + request.url;
  if (error.failure == TransportFailure::kResponseTooLarge) {
    error.message =
        target + ": the response exceeded the limit of " + std::to_string(options.max_response_bytes) + " bytes";
  } else {
    error.message = target + ": " + describe(error.failure) + " (" + detail + ")";
  }
  return error;
}

}  // namespace

const char* describe(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kConnectionRefused:
      return "connection refused";
    case TransportFailure::kDnsFailure:
      return "host name did not resolve";
    case TransportFailure::kTimeout:
      return "timed out";
    case TransportFailure::kConnectionReset:
      return "connection reset or response truncated";
    case TransportFailure::kResponseTooLarge:
      return "response too large";
    case TransportFailure::kTls:
      return "TLS handshake or certificate check failed";
    case TransportFailure::kOther:
      break;
  }
  return "request failed";
}

CurlTransport::CurlTransport() { initialize_curl_once(); }

Result<HttpResponse, TransportError> CurlTransport::send(const HttpRequest& request, const TransportOptions& options) {
  std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  if (!handle) return fail(TransportError{TransportFailure::kOther, "curl_easy_init failed for " + request.url});

  Exchange exchange;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  auto headers = header_list(request.headers);
  set_options(handle.get(), request, options, exchange, headers.get(), error_buffer);

  const CURLcode code = curl_easy_perform(handle.get());
  if (code != CURLE_OK) return fail(make_transport_error(request, code, exchange, error_buffer, options));

  long status = 0;
  curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
  exchange.response.status = static_cast<int>(status);
  return std::move(exchange.response);
}

}  // namespace hivemind::aws
