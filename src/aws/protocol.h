#pragma once

// The wire formats of the three AWS protocols HiveMind speaks, as pure
// functions: build an HttpRequest from an operation and its input, and turn
// an HttpResponse into the parsed output or a typed AwsError. Nothing here
// sends, signs or sleeps, so every function can be tested on exact strings.
//
// EC2 query:  POST form "Action=..&Version=..&<params>", success root
//             <ActionResponse> with <requestId>, errors
//             <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>.
// AWS query:  same request, success <ActionResponse><ActionResult> with
//             <ResponseMetadata><RequestId>, errors
//             <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
// JSON 1.1:   POST / with Content-Type application/x-amz-json-1.1 and
//             X-Amz-Target "<prefix>.<Operation>"; errors carry "__type"
//             ("prefix#Code") and "message" or "Message"; the request id is
//             in the x-amzn-RequestId header.

#include <string>
#include <string_view>

#include "aws/client.h"

namespace hivemind::aws {

// Percent-encodes everything except RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

// Returns the form body "Action=<action>&Version=<version>&k=v..." in the
// order given.
std::string encode_query_body(std::string_view action, std::string_view version, const QueryParams& params);

// Returns `endpoint` with exactly one trailing '/', the path every call of
// these protocols is sent to.
std::string request_url(std::string_view endpoint);

HttpRequest build_query_request(const ServiceSpec& service, std::string_view endpoint, std::string_view action,
                                const QueryParams& params);
HttpRequest build_json_request(const ServiceSpec& service, std::string_view endpoint, std::string_view operation,
                               const nlohmann::json& body);

// Parse a response of the EC2 or AWS query protocol (by service.protocol).
// A 2xx status must carry the <ActionResponse> document; anything else is an
// AwsError of kind kService (the body names a code) or kParse (it does not).
AwsResult<XmlResponse> parse_xml_response(const ServiceSpec& service, std::string_view action,
                                          const HttpResponse& response);
AwsResult<JsonResponse> parse_json_response(const ServiceSpec& service, std::string_view operation,
                                            const HttpResponse& response);

// Returns the value of the first header named `name` (case-insensitive), or "".
std::string find_header(const HeaderList& headers, std::string_view name);

}  // namespace hivemind::aws
