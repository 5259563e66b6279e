#include "aws/client.h"

#include <openssl/rand.h>

#include <cstdio>
#include <thread>

#include "aws/protocol.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "common/log.h"

namespace hivemind::aws {
namespace {

// Cost Explorer has one global endpoint, signed for us-east-1 whatever the
// client's region is.
std::string signing_region(const ServiceSpec& service, const std::string& region) {
  return service.signing_name == "ce" ? "us-east-1" : region;
}

unsigned seed_from(unsigned configured) {
  if (configured != 0) return configured;
  return static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
}

const char* transport_code(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kConnectionRefused:
      return kTransportConnectionRefused;
    case TransportFailure::kDnsFailure:
      return kTransportDnsFailure;
    case TransportFailure::kTimeout:
      return kTransportTimeout;
    case TransportFailure::kConnectionReset:
      return kTransportConnectionReset;
    case TransportFailure::kResponseTooLarge:
      return kTransportResponseTooLarge;
    case TransportFailure::kTls:
      return kTransportTls;
    case TransportFailure::kOther:
      break;
  }
  return kTransportOther;
}

AwsError call_error(ErrorKind kind, const ServiceSpec& service, std::string_view operation, std::string code,
                    std::string message) {
  AwsError error;
  error.kind = kind;
  error.service = std::string(service.name);
  error.operation = std::string(operation);
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

// The endpoint of `service`, or an error when the config has no way to find it.
AwsResult<std::string> endpoint_of(const ClientConfig& config, const ServiceSpec& service, std::string_view operation) {
  std::string endpoint = config.endpoint_for ? config.endpoint_for(service) : std::string();
  if (endpoint.empty()) {
    return fail(call_error(ErrorKind::kCredentials, service, operation, "settings.missing_endpoint",
                           "no endpoint URL is configured for " + std::string(service.id)));
  }
  return endpoint;
}

}  // namespace

AwsClient::AwsClient(ClientConfig config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {
  if (!config_.sleep) config_.sleep = [](std::chrono::milliseconds wait) { std::this_thread::sleep_for(wait); };
  if (!config_.now) config_.now = [] { return std::chrono::system_clock::now(); };
  backoff_ = std::make_unique<Backoff>(config_.backoff_base, config_.max_backoff, seed_from(config_.random_seed));
}

AwsClient::~AwsClient() = default;

AwsResult<XmlResponse> AwsClient::query(const ServiceSpec& service, std::string_view action,
                                        const QueryParams& params) {
  auto endpoint = endpoint_of(config_, service, action);
  if (!endpoint) return fail(std::move(endpoint).error());

  const HttpRequest request = build_query_request(service, *endpoint, action, params);
  const std::function<AwsResult<XmlResponse>(const HttpResponse&)> parse = [&](const HttpResponse& response) {
    return parse_xml_response(service, action, response);
  };
  return send<XmlResponse>(service, action, request, parse);
}

AwsResult<JsonResponse> AwsClient::json(const ServiceSpec& service, std::string_view operation,
                                        const nlohmann::json& body) {
  auto endpoint = endpoint_of(config_, service, operation);
  if (!endpoint) return fail(std::move(endpoint).error());

  const HttpRequest request = build_json_request(service, *endpoint, operation, body);
  const std::function<AwsResult<JsonResponse>(const HttpResponse&)> parse = [&](const HttpResponse& response) {
    return parse_json_response(service, operation, response);
  };
  return send<JsonResponse>(service, operation, request, parse);
}

template <typename T>
AwsResult<T> AwsClient::send(const ServiceSpec& service, std::string_view operation, const HttpRequest& request,
                             const std::function<AwsResult<T>(const HttpResponse&)>& parse) {
  auto logger = log::get("aws");
  const auto started = std::chrono::steady_clock::now();
  int last_status = 0;

  RetryPolicy policy;
  policy.max_attempts = config_.max_attempts;
  policy.backoff = backoff_.get();
  policy.sleep = config_.sleep;
  policy.on_retry = [&](const AwsError& error, int retry_index, std::chrono::milliseconds wait) {
    logger->info("{} {}: attempt {} failed with {} (HTTP {}), retrying in {} ms", service.name, operation,
                 retry_index + 1, error.code, error.http_status, wait.count());
  };

  const std::function<AwsResult<T>()> attempt = [&]() -> AwsResult<T> {
    auto response = send_once(service, operation, request);
    if (!response) return fail(std::move(response).error());
    last_status = response->status;
    return parse(*response);
  };
  AwsResult<T> result = run_with_retries<T>(policy, attempt);

  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (result.ok()) {
    logger->debug("{} {}: HTTP {} after {} ms, request id {}", service.name, operation, last_status, elapsed.count(),
                  result->request_id);
    return result;
  }

  AwsError error = std::move(result).error();
  error.endpoint = request.url;
  logger->debug("{} {}: failed with {} (HTTP {}) after {} attempt(s) in {} ms, request id {}", service.name, operation,
                error.code, error.http_status, error.attempts, elapsed.count(),
                error.request_id.empty() ? "none" : error.request_id);
  return fail(std::move(error));
}

AwsResult<HttpResponse> AwsClient::send_once(const ServiceSpec& service, std::string_view operation,
                                             HttpRequest request) {
  auto credentials = current_credentials();
  if (!credentials) {
    AwsError error = std::move(credentials).error();
    error.service = std::string(service.name);
    error.operation = std::string(operation);
    return fail(std::move(error));
  }

  const SigningScope scope{std::string(service.signing_name), signing_region(service, config_.region), config_.now()};
  sign_request(request, *credentials, scope);

  auto sent = transport_->send(request, config_.transport);
  if (!sent) {
    TransportError failure = std::move(sent).error();
    return fail(call_error(ErrorKind::kTransport, service, operation, transport_code(failure.failure),
                           std::move(failure.message)));
  }
  return std::move(sent).value();
}

AwsResult<Credentials> AwsClient::current_credentials() const {
  if (config_.credentials_provider) return config_.credentials_provider();
  if (config_.credentials.access_key_id.empty() || config_.credentials.secret_access_key.empty()) {
    AwsError error;
    error.kind = ErrorKind::kCredentials;
    error.code = kCredentialsMissing;
    error.message = "the client has no AWS access key to sign requests with";
    return fail(std::move(error));
  }
  return config_.credentials;
}

std::string new_client_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator failing is a broken system, not a caller's error.
    std::random_device device;
    for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(device());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant

  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

}  // namespace hivemind::aws
