#include "aws/protocol.h"

#include <cctype>

#include "aws/protocol_internal.h"
#include "common/strings.h"

namespace hivemind::aws {
namespace {

bool is_unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

// Maximum number of error body characters quoted in a parse error message.
constexpr std::size_t kQuotedBodyChars = 160;

// Returns the start of `body` on one line, with control bytes replaced.
std::string quote_body(std::string_view body) {
  std::string quoted;
  for (unsigned char c : body.substr(0, kQuotedBodyChars)) {
    quoted += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  if (body.size() > kQuotedBodyChars) quoted += "...";
  return quoted;
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0f];
    }
  }
  return encoded;
}

std::string encode_query_body(std::string_view action, std::string_view version, const QueryParams& params) {
  std::string body = "Action=" + percent_encode(action) + "&Version=" + percent_encode(version);
  for (const auto& [name, value] : params) {
    body += '&';
    body += percent_encode(name);
    body += '=';
    body += percent_encode(value);
  }
  return body;
}

std::string request_url(std::string_view endpoint) {
  std::string url(endpoint);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/";
}

HttpRequest build_query_request(const ServiceSpec& service, std::string_view endpoint, std::string_view action,
                                const QueryParams& params) {
  HttpRequest request;
  request.method = "POST";
  request.url = request_url(endpoint);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = encode_query_body(action, service.api_version, params);
  return request;
}

HttpRequest build_json_request(const ServiceSpec& service, std::string_view endpoint, std::string_view operation,
                               const nlohmann::json& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = request_url(endpoint);
  request.headers = {
      {"Content-Type", "application/x-amz-json-1.1"},
      {"X-Amz-Target", std::string(service.json_target_prefix) + "." + std::string(operation)},
  };
  request.body = body.is_null() ? "{}" : body.dump();
  return request;
}

std::string find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [header_name, value] : headers) {
    if (iequals(header_name, name)) return value;
  }
  return {};
}

namespace detail {

std::string header_request_id(const HttpResponse& response) {
  std::string id = find_header(response.headers, "x-amzn-RequestId");
  if (id.empty()) id = find_header(response.headers, "x-amz-request-id");
  return id;
}

AwsError error_for_response(const ServiceSpec& service, std::string_view operation, const HttpResponse& response,
                            std::string request_id) {
  AwsError error;
  error.service = std::string(service.name);
  error.operation = std::string(operation);
  error.http_status = response.status;
  error.request_id = request_id.empty() ? header_request_id(response) : std::move(request_id);
  return error;
}

AwsError malformed_response(const ServiceSpec& service, std::string_view operation, const HttpResponse& response,
                            std::string_view expected, std::string request_id) {
  AwsError error = error_for_response(service, operation, response, std::move(request_id));
  error.kind = ErrorKind::kParse;
  error.code = kParseMalformedResponse;

  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.body.empty()) {
    error.message = status + " with an empty body, expected " + std::string(expected);
  } else if (response.status >= 200 && response.status < 300) {
    error.message = status + " with a body of " + std::to_string(response.body.size()) + " bytes that is not " +
                    std::string(expected);
  } else {
    error.message =
        status + " with a body that is not " + std::string(expected) + ": \"" + quote_body(response.body) + "\"";
  }
  return error;
}

}  // namespace detail
}  // namespace hivemind::aws
