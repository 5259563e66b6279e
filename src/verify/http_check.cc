// HTTP(S) checks with libcurl: one GET, no redirects, no proxy, a bounded
// body, and a diagnosis taken from the curl error code.

#include <curl/curl.h>
#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "common/log.h"
#include "verify/overwatch.h"

namespace hivemind::verify {
namespace {

constexpr std::size_t kMaxBodyBytes = 256 * 1024;

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  std::size_t bytes = size * count;
  std::size_t room = kMaxBodyBytes > body->size() ? kMaxBodyBytes - body->size() : 0;
  body->append(data, std::min(bytes, room));
  return bytes;
}

// Classifies a certificate failure from curl's error text, which carries
// OpenSSL's verify message ("certificate has expired", "self-signed ...").
Diagnosis classify_certificate(const std::string& message) {
  if (message.find("expired") != std::string::npos || message.find("not yet valid") != std::string::npos) {
    return Diagnosis::kCertExpired;
  }
  if (message.find("self-signed") != std::string::npos || message.find("self signed") != std::string::npos) {
    return Diagnosis::kCertSelfSigned;
  }
  if (message.find("subject name") != std::string::npos || message.find("hostname") != std::string::npos ||
      message.find("host name") != std::string::npos) {
    return Diagnosis::kCertWrongHost;
  }
  return Diagnosis::kCertUntrusted;
}

Diagnosis classify_transfer(CURLcode code, long os_errno, const std::string& message) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return os_errno == ECONNREFUSED ? Diagnosis::kRefused : Diagnosis::kUnreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return Diagnosis::kTimedOut;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return classify_certificate(message);
    case CURLE_SSL_CONNECT_ERROR:
      return message.find("certificate") != std::string::npos ? classify_certificate(message)
                                                              : Diagnosis::kTlsHandshake;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Diagnosis::kInvalidRequest;
    default:
      return Diagnosis::kUnreachable;
  }
}

std::string next_step(Diagnosis diagnosis) {
  switch (diagnosis) {
    case Diagnosis::kRefused:
      return "Nothing listens there: check that the app is running and bound to that port.";
    case Diagnosis::kTimedOut:
      return "Check the security group, the route and whether the app hangs.";
    case Diagnosis::kCertExpired:
      return "Renew the certificate.";
    case Diagnosis::kCertSelfSigned:
      return "Use a certificate issued by a trusted CA, or pass its CA file.";
    case Diagnosis::kCertWrongHost:
      return "Issue the certificate for this host name.";
    default:
      return {};
  }
}

CheckResult fail_transfer(CheckResult result, const HttpCheck& check, CURLcode code, long os_errno,
                          const std::string& message) {
  result.diagnosis = classify_transfer(code, os_errno, message);
  result.detail = fmt::format("GET {} failed: {} ({})", check.url, message.empty() ? curl_easy_strerror(code) : message,
                              diagnosis_name(result.diagnosis));
  std::string step = next_step(result.diagnosis);
  if (!step.empty()) result.detail += ". " + step;
  return result;
}

}  // namespace

CheckResult check_http(const HttpCheck& check) {
  CheckResult result;
  result.name = check.name;

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    result.diagnosis = Diagnosis::kInvalidRequest;
    result.detail = "Could not create a libcurl handle.";
    return result;
  }

  std::string body;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  if (!check.host_header.empty()) {
    std::string line = "Host: " + check.host_header;
    headers.reset(curl_slist_append(nullptr, line.c_str()));
  }

  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, check.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(check.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(check.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  if (headers) curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  if (!check.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, check.ca_file.c_str());

  auto started = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(handle);
  result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

  if (code != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
    log::get("overwatch")
        ->debug("GET {} failed with curl code {}: {}", check.url, static_cast<int>(code), error_buffer);
    return fail_transfer(std::move(result), check, code, os_errno, error_buffer);
  }

  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status != check.expected_status) {
    result.diagnosis = Diagnosis::kWrongStatus;
    result.detail = fmt::format("GET {} returned HTTP {}, expected {}. Check the app's log for the cause.", check.url,
                                status, check.expected_status);
    return result;
  }
  if (!check.body_contains.empty() && body.find(check.body_contains) == std::string::npos) {
    result.diagnosis = Diagnosis::kBodyMismatch;
    result.detail = fmt::format("GET {} returned HTTP {} but the body does not contain \"{}\" ({} bytes read).",
                                check.url, status, check.body_contains, body.size());
    return result;
  }

  result.passed = true;
  result.detail = fmt::format("GET {} returned HTTP {} in {} ms.", check.url, status, result.latency.count());
  return result;
}

}  // namespace hivemind::verify
