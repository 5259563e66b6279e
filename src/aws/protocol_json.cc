// Response parsing for the JSON 1.1 protocol.

#include "aws/protocol.h"
#include "aws/protocol_internal.h"

namespace hivemind::aws {
namespace {

// "com.amazonaws.logs#ResourceNotFoundException" -> "ResourceNotFoundException".
// The x-amzn-ErrorType header may also append ":<url>" after the code.
std::string strip_error_type(std::string_view type) {
  const std::size_t hash = type.rfind('#');
  if (hash != std::string_view::npos) type.remove_prefix(hash + 1);
  const std::size_t colon = type.find(':');
  if (colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

std::string string_member(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

AwsResult<JsonResponse> parse_json_error(const ServiceSpec& service, std::string_view operation,
                                         const HttpResponse& response, const nlohmann::json& body) {
  std::string code = string_member(body, "__type");
  if (code.empty()) code = find_header(response.headers, "x-amzn-ErrorType");
  if (code.empty()) code = string_member(body, "code");
  if (code.empty()) {
    return fail(detail::malformed_response(service, operation, response, "an AWS JSON error", ""));
  }

  AwsError error = detail::error_for_response(service, operation, response, "");
  error.kind = ErrorKind::kService;
  error.code = strip_error_type(code);
  error.message = string_member(body, "message");
  if (error.message.empty()) error.message = string_member(body, "Message");
  return fail(std::move(error));
}

}  // namespace

AwsResult<JsonResponse> parse_json_response(const ServiceSpec& service, std::string_view operation,
                                            const HttpResponse& response) {
  const bool success = response.status >= 200 && response.status < 300;

  // Operations without output may send no body at all.
  nlohmann::json body = nlohmann::json::object();
  if (!response.body.empty()) {
    body = nlohmann::json::parse(response.body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  }
  if (body.is_discarded() || !body.is_object()) {
    // Without a JSON body the header alone can still name the error.
    if (!success && !find_header(response.headers, "x-amzn-ErrorType").empty()) {
      return parse_json_error(service, operation, response, nlohmann::json::object());
    }
    // NOTE: moto 5.2.1 reports IAM authentication failures of JSON services
    // with an XML <ErrorResponse>, so an XML error document is accepted too.
    if (!success) {
      auto xml = parse_xml_response(service, operation, response);
      if (!xml.ok() && xml.error().kind == ErrorKind::kService) return fail(std::move(xml).error());
    }
    return fail(detail::malformed_response(service, operation, response, "a JSON object", ""));
  }

  if (!success) return parse_json_error(service, operation, response, body);
  return JsonResponse{std::move(body), detail::header_request_id(response)};
}

}  // namespace hivemind::aws
