#pragma once

// AwsClient: sends one AWS API call with the right protocol, signs it, retries
// it the way the AWS SDKs' standard retry mode does, and returns the parsed
// response or a typed AwsError. Typed calls per service (ec2.h, elbv2.h, ...)
// are thin functions over this. Thread safe: one client serves all threads.

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
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
  std::string_view name;                // short name in logs and errors: "ec2", "elbv2", "logs", ...
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

// Returns the spec whose `name` or `id` is `name_or_id`, or nullptr.
const ServiceSpec* find_service(std::string_view name_or_id);

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

class Backoff;

// Returns the credentials to sign the next attempt with. Called before every
// attempt, so that credentials renewed mid-deployment (IMDS, SSO) are used.
using CredentialsProvider = std::function<AwsResult<Credentials>()>;

// Where a call goes and how hard it tries.
struct ClientConfig {
  std::string region;
  // Fixed credentials, used when `credentials_provider` is empty.
  Credentials credentials;
  CredentialsProvider credentials_provider;
  // Returns the endpoint URL for a service, e.g. from AWS_ENDPOINT_URL_EC2,
  // AWS_ENDPOINT_URL, or https://<prefix>.<region>.amazonaws.com. Required:
  // the client has no default endpoint of its own.
  std::function<std::string(const ServiceSpec&)> endpoint_for;
  int max_attempts = 3;  // total sends per call, first one included
  // Retry number n waits a random time in [0, min(max_backoff, backoff_base * 2^n)].
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds max_backoff{20'000};
  TransportOptions transport;
  // Waits between attempts; tests replace it to run without sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::system_clock::time_point()> now;
  unsigned random_seed = 0;  // 0: seeded from the clock
};

// Sends calls of the EC2 query, AWS query and JSON 1.1 protocols: builds the
// request, signs it with SigV4 before every attempt, sends it through the
// transport, retries throttling and transient failures (retry.h), and parses
// the response. Every call is logged at debug level to the "aws" component
// with its service, operation, status, attempts, duration and request id.
// Request and response bodies are never logged, since they may carry secrets.
// Thread safe: one client serves all threads, if the transport and the
// config's functions are thread safe too.
class AwsClient {
 public:
  AwsClient(ClientConfig config, std::shared_ptr<HttpTransport> transport);
  ~AwsClient();
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  AwsResult<XmlResponse> query(const ServiceSpec& service, std::string_view action, const QueryParams& params);
  AwsResult<JsonResponse> json(const ServiceSpec& service, std::string_view operation, const nlohmann::json& body);

  const ClientConfig& config() const { return config_; }

 private:
  template <typename T>
  AwsResult<T> send(const ServiceSpec& service, std::string_view operation, const HttpRequest& request,
                    const std::function<AwsResult<T>(const HttpResponse&)>& parse);
  AwsResult<HttpResponse> send_once(const ServiceSpec& service, std::string_view operation, HttpRequest request);
  AwsResult<Credentials> current_credentials() const;

  ClientConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  std::unique_ptr<Backoff> backoff_;
};

// A fresh idempotency token (a random UUID) for a create call's ClientToken
// parameter. Pass one in every create call that accepts ClientToken, and
// reuse it when that same call is retried after a crash: AWS then returns the
// first call's result instead of creating a second resource. Among the calls
// HiveMind makes, EC2's RunInstances, CreateRouteTable, CreateNatGateway,
// CreateNetworkAcl, CreateNetworkInterface, CreateVolume, CreateVpcEndpoint,
// CreateLaunchTemplate and CreateFlowLogs accept it (botocore 1.43.11's EC2
// model). CreateVpc, CreateSubnet, CreateSecurityGroup,
// CreateInternetGateway, AllocateAddress and ImportKeyPair do not, and ELBv2
// and RDS creates are keyed by name instead. moto ignores the token, so tag
// every resource in its create call too.
std::string new_client_token();

}  // namespace hivemind::aws
