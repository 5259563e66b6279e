#pragma once

// Helpers shared by the XML and JSON response parsers. Not part of the
// public AWS layer.

#include <string>
#include <string_view>

#include "aws/client.h"

namespace hivemind::aws::detail {

// Returns an AwsError with the call's identity and the response's status and
// request id filled in.
AwsError error_for_response(const ServiceSpec& service, std::string_view operation, const HttpResponse& response,
                            std::string request_id);

// Returns a kParse error for a response whose body is not what the protocol
// promises. For error statuses the message quotes the start of the body (an
// HTML page from a proxy, say); for 2xx it states only the size, because a
// successful body may carry a secret.
AwsError malformed_response(const ServiceSpec& service, std::string_view operation, const HttpResponse& response,
                            std::string_view expected, std::string request_id);

// Returns the request id from the x-amzn-RequestId or x-amz-request-id header.
std::string header_request_id(const HttpResponse& response);

}  // namespace hivemind::aws::detail
