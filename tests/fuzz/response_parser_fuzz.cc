// libFuzzer target for the response parsers of the EC2 query, AWS query and
// JSON 1.1 protocols, and for the error sentences built from what they
// return. Built and run by tests/fuzz/run, outside CTest.
//
// Input layout: byte 0 picks the HTTP status, byte 1 the service and the
// header set, and the rest is the response body.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "aws/client.h"
#include "aws/protocol.h"

namespace {

using hivemind::aws::HttpResponse;
using hivemind::aws::ServiceSpec;

constexpr std::array<int, 8> kStatuses = {200, 204, 400, 403, 404, 500, 503, 302};

const ServiceSpec& pick_service(std::uint8_t selector) {
  switch (selector % 6) {
    case 0:
      return hivemind::aws::ec2_service();
    case 1:
      return hivemind::aws::elbv2_service();
    case 2:
      return hivemind::aws::sts_service();
    case 3:
      return hivemind::aws::logs_service();
    case 4:
      return hivemind::aws::ssm_service();
    default:
      return hivemind::aws::tagging_service();
  }
}

// Touches every field a caller would read, so that the sanitizers see them.
template <typename Response>
void consume(const hivemind::aws::AwsResult<Response>& result) {
  if (result.ok()) return;
  const hivemind::Error error = result.error().to_error();
  if (error.message.empty() || error.remediation.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;

  HttpResponse response;
  response.status = kStatuses[data[0] % kStatuses.size()];
  if (data[1] & 0x80) response.headers.emplace_back("x-amzn-ErrorType", "Fuzzed:http://internal/");
  if (data[1] & 0x40) response.headers.emplace_back("x-amzn-RequestId", "fuzz-request");
  response.body.assign(reinterpret_cast<const char*>(data + 2), size - 2);

  const ServiceSpec& service = pick_service(data[1]);
  if (service.protocol == hivemind::aws::Protocol::kJson11) {
    consume(hivemind::aws::parse_json_response(service, "DescribeThings", response));
  } else {
    consume(hivemind::aws::parse_xml_response(service, "DescribeThings", response));
  }
  return 0;
}
