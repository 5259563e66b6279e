#pragma once

// AwsClient: sends one AWS API call with the right protocol, signs it, retries
// it the way the AWS SDKs' standard retry mode does, and returns the parsed
// response or a typed AwsError. Typed calls per service (ec2.h, elbv2.h, ...)
// are thin functions over this. Thread safe: one client serves all threads.

#include <pugixml.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/error.h"
#include "aws/http.h"

namespace hivemind::aws {

enum class Protocol {
  kEc2Query,  // EC2's dialect of the query protocol
  kQuery,     // elasticloadbalancing v2, rds, monitoring, sts
  kJson11,    // logs, ce, ssm, resourcegroupstaggingapi
};

// Static facts about one AWS service's API.
struct ServiceSpec {
  std::string_view id;               // "ec2", as in AWS_ENDPOINT_URL_<ID> (upper-cased, '-' to '_')
  std::string_view signing_name;     // SigV4 service name
  std::string_view endpoint_prefix;  // host prefix of the default endpoint
  std::string_view api_version;      // query protocols' Version parameter
  Protocol protocol;
  std::string_view json_target_prefix;  // JSON 1.1: X-Amz-Target is "<prefix>.<Operation>"
  std::string_view iam_prefix;          // "ec2", "elasticloadbalancing", "rds", "logs", ...
};

const ServiceSpec& ec2_service();
const ServiceSpec& elbv2_service();
const ServiceSpec& rds_service();
const ServiceSpec& monitoring_service();
const ServiceSpec& sts_service();
const ServiceSpec& logs_service();
const ServiceSpec& cost_explorer_service();
const ServiceSpec& ssm_service();
const ServiceSpec& tagging_service();

// Query protocol parameters, already flattened: {"Filter.1.Name", "tag:x"}.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct XmlResponse {
  std::shared_ptr<pugi::xml_document> document;
  // The operation's result element: <ActionResult> for the query protocol,
  // the <ActionResponse> root for EC2.
  pugi::xml_node result;
  std::string request_id;
};

struct JsonResponse {
  nlohmann::json body;
  std::string request_id;
};

// Where a call goes and how hard it tries.
struct ClientConfig {
  std::string region;
  Credentials credentials;
  // Returns the endpoint URL for a service, e.g. from AWS_ENDPOINT_URL_EC2,
  // AWS_ENDPOINT_URL, or https://<prefix>.<region>.amazonaws.com.
  std::function<std::string(const ServiceSpec&)> endpoint_for;
  int max_attempts = 3;  // total sends per call, first one included
  std::chrono::milliseconds max_backoff{20'000};
  TransportOptions transport;
  // Waits between attempts; tests replace it to run without sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::system_clock::time_point()> now;
  unsigned random_seed = 0;  // 0: seeded from the clock
};

class AwsClient {
 public:
  AwsClient(ClientConfig config, std::shared_ptr<HttpTransport> transport);

  AwsResult<XmlResponse> query(const ServiceSpec& service, std::string_view action, const QueryParams& params);
  AwsResult<JsonResponse> json(const ServiceSpec& service, std::string_view operation, const nlohmann::json& body);

  const ClientConfig& config() const { return config_; }

 private:
  ClientConfig config_;
  std::shared_ptr<HttpTransport> transport_;
};

// A fresh idempotency token for a create call's ClientToken parameter.
std::string new_client_token();

}  // namespace hivemind::aws
