// Response parsing for the EC2 and AWS query protocols.

#include <cstring>

#include "aws/protocol.h"
#include "aws/protocol_internal.h"
#include "common/strings.h"

namespace hivemind::aws {
namespace {

bool is_success(int status) { return status >= 200 && status < 300; }

// Returns the text of the first element named `name` anywhere under `root`.
std::string descendant_text(const pugi::xml_node& root, const char* name) {
  pugi::xml_node found = root.find_node([name](const pugi::xml_node& node) {
    return node.type() == pugi::node_element && std::strcmp(node.name(), name) == 0;
  });
  return trim(found.text().as_string());
}

// Both error documents put Code and Message in an <Error> element; EC2 nests
// it in <Errors> and spells the id <RequestID>, the query protocol does not.
AwsResult<XmlResponse> parse_error_document(const ServiceSpec& service, std::string_view action,
                                            const HttpResponse& response, const pugi::xml_document& document) {
  pugi::xml_node error_node = document.find_node([](const pugi::xml_node& node) {
    return node.type() == pugi::node_element && std::strcmp(node.name(), "Error") == 0 && node.child("Code");
  });
  std::string request_id = descendant_text(document, "RequestID");
  if (request_id.empty()) request_id = descendant_text(document, "RequestId");
  if (!error_node) {
    return fail(detail::malformed_response(service, action, response, "an AWS error document", request_id));
  }

  AwsError error = detail::error_for_response(service, action, response, std::move(request_id));
  error.kind = ErrorKind::kService;
  error.code = trim(error_node.child("Code").text().as_string());
  error.message = trim(error_node.child("Message").text().as_string());
  return fail(std::move(error));
}

AwsResult<XmlResponse> parse_success_document(const ServiceSpec& service, std::string_view action,
                                              const HttpResponse& response,
                                              std::shared_ptr<pugi::xml_document> document) {
  const std::string expected_root = std::string(action) + "Response";
  pugi::xml_node root = document->document_element();
  if (expected_root != root.name()) {
    return fail(detail::malformed_response(service, action, response, "an <" + expected_root + "> document", ""));
  }

  XmlResponse parsed;
  parsed.document = std::move(document);
  if (service.protocol == Protocol::kEc2Query) {
    parsed.result = root;
    parsed.request_id = trim(root.child("requestId").text().as_string());
  } else {
    // Operations without output may omit <ActionResult>; the root stands in.
    const std::string result_name = std::string(action) + "Result";
    pugi::xml_node result = root.child(result_name.c_str());
    parsed.result = result ? result : root;
    parsed.request_id = trim(root.child("ResponseMetadata").child("RequestId").text().as_string());
  }
  if (parsed.request_id.empty()) parsed.request_id = detail::header_request_id(response);
  return parsed;
}

}  // namespace

AwsResult<XmlResponse> parse_xml_response(const ServiceSpec& service, std::string_view action,
                                          const HttpResponse& response) {
  auto document = std::make_shared<pugi::xml_document>();
  const pugi::xml_parse_result loaded = document->load_buffer(response.body.data(), response.body.size());
  if (!loaded || !document->document_element()) {
    return fail(detail::malformed_response(service, action, response, "XML", ""));
  }

  if (!is_success(response.status)) return parse_error_document(service, action, response, *document);
  return parse_success_document(service, action, response, std::move(document));
}

}  // namespace hivemind::aws
