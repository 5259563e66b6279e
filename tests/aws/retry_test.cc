// Retries in standard mode: which failures are retried, how long the client
// waits, and how many times it sends, driven through a scripted loopback
// server and the real libcurl transport.

#include "aws/retry.h"

#include <gtest/gtest.h>

#include "aws/client.h"
#include "aws/curl_transport.h"
#include "aws/protocol.h"
#include "support/fault_server.h"

namespace hivemind::aws {
namespace {

using namespace std::chrono_literals;
using testing::FaultServer;
using testing::ScriptedReply;

constexpr const char* kCallerIdentity =
    "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>ok-1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>";

AwsError service_error(std::string code, int status) {
  AwsError error;
  error.kind = ErrorKind::kService;
  error.code = std::move(code);
  error.http_status = status;
  return error;
}

AwsError transport_error(const char* code) {
  AwsError error;
  error.kind = ErrorKind::kTransport;
  error.code = code;
  return error;
}

class RetryTest : public ::testing::Test {
 protected:
  AwsClient make_client(int max_attempts = 3) {
    ClientConfig config = testing::loopback_client_config(server_.endpoint(), &sleeps_);
    config.max_attempts = max_attempts;
    return AwsClient(config, std::make_shared<CurlTransport>());
  }

  void expect_sleeps_within_bounds(const ClientConfig& config) {
    Backoff bounds(config.backoff_base, config.max_backoff, 1);
    for (std::size_t i = 0; i < sleeps_.size(); ++i) {
      EXPECT_GE(sleeps_[i].count(), 0) << "retry " << i;
      EXPECT_LE(sleeps_[i], bounds.ceiling(static_cast<int>(i))) << "retry " << i;
    }
  }

  FaultServer server_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST(RetryClassifyTest, ThrottlingCodesAreThrottling) {
  for (const char* code :
       {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException"}) {
    EXPECT_EQ(classify(service_error(code, 400)), RetryClass::kThrottling) << code;
  }
}

TEST(RetryClassifyTest, TransientCodesAndStatusesAreTransient) {
  for (const char* code : {"RequestTimeout", "RequestTimeoutException", "InternalError"}) {
    EXPECT_EQ(classify(service_error(code, 400)), RetryClass::kTransient) << code;
  }
  for (int status : {500, 502, 503, 504}) {
    EXPECT_EQ(classify(service_error("Whatever", status)), RetryClass::kTransient) << status;
  }
}

TEST(RetryClassifyTest, ClientErrorsAreFinal) {
  for (const char* code : {"AccessDenied", "UnauthorizedOperation", "InvalidParameterValue", "DependencyViolation",
                           "ValidationError", "SignatureDoesNotMatch"}) {
    EXPECT_EQ(classify(service_error(code, 400)), RetryClass::kNotRetryable) << code;
  }
  EXPECT_EQ(classify(service_error("NotImplemented", 501)), RetryClass::kNotRetryable);
}

TEST(RetryClassifyTest, TransportFailuresByKind) {
  EXPECT_EQ(classify(transport_error(kTransportConnectionRefused)), RetryClass::kTransient);
  EXPECT_EQ(classify(transport_error(kTransportConnectionReset)), RetryClass::kTransient);
  EXPECT_EQ(classify(transport_error(kTransportTimeout)), RetryClass::kTransient);
  EXPECT_EQ(classify(transport_error(kTransportDnsFailure)), RetryClass::kNotRetryable);
  EXPECT_EQ(classify(transport_error(kTransportTls)), RetryClass::kNotRetryable);
  EXPECT_EQ(classify(transport_error(kTransportResponseTooLarge)), RetryClass::kNotRetryable);
}

TEST(RetryClassifyTest, CredentialErrorsAreFinal) {
  AwsError error;
  error.kind = ErrorKind::kCredentials;
  error.code = "Throttling";  // even a code that would otherwise retry
  EXPECT_EQ(classify(error), RetryClass::kNotRetryable);
}

TEST(BackoffTest, CeilingDoublesUpToMaximum) {
  Backoff backoff(100ms, 20s, 1);

  EXPECT_EQ(backoff.ceiling(0), 100ms);
  EXPECT_EQ(backoff.ceiling(1), 200ms);
  EXPECT_EQ(backoff.ceiling(4), 1600ms);
  EXPECT_EQ(backoff.ceiling(8), 20s);
  EXPECT_EQ(backoff.ceiling(1000), 20s);
}

TEST(BackoffTest, DelaysStayWithinZeroAndCeiling) {
  Backoff backoff(100ms, 20s, 42);
  std::chrono::milliseconds largest{0};

  for (int retry = 0; retry < 12; ++retry) {
    for (int sample = 0; sample < 500; ++sample) {
      const auto delay = backoff.delay(retry);
      ASSERT_GE(delay.count(), 0);
      ASSERT_LE(delay, backoff.ceiling(retry));
      largest = std::max(largest, delay);
    }
  }
  // Full jitter spreads over the whole range, not only near zero.
  EXPECT_GT(largest, 10s);
}

TEST(BackoffTest, SameSeedGivesSameDelays) {
  Backoff first(500ms, 20s, 9);
  Backoff second(500ms, 20s, 9);

  for (int retry = 0; retry < 6; ++retry) EXPECT_EQ(first.delay(retry), second.delay(retry));
}

TEST_F(RetryTest, ThrottlingIsRetriedUntilSuccess) {
  server_.push(ScriptedReply::query_error(400, "Throttling", "Rate exceeded"), 2);
  server_.set_default(ScriptedReply::respond(200, kCallerIdentity));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(response->request_id, "ok-1");
  EXPECT_EQ(server_.request_count(), 3);
  ASSERT_EQ(sleeps_.size(), 2u);
  expect_sleeps_within_bounds(client.config());
}

TEST_F(RetryTest, JsonThrottlingExceptionIsRetried) {
  server_.push(ScriptedReply::json_error(400, "ThrottlingException"));
  server_.set_default(ScriptedReply::respond(200, R"({"logGroups":[]})"));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "DescribeLogGroups", nlohmann::json::object());

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(server_.request_count(), 2);
}

TEST_F(RetryTest, Ec2RequestLimitExceededIsRetried) {
  server_.push(ScriptedReply::respond(503,
                                      "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down"
                                      "</Message></Error></Errors><RequestID>r-1</RequestID></Response>"));
  server_.set_default(
      ScriptedReply::respond(200, "<DescribeVpcsResponse><requestId>r-2</requestId><vpcSet/></DescribeVpcsResponse>"));
  AwsClient client = make_client();

  auto response = client.query(ec2_service(), "DescribeVpcs", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(response->request_id, "r-2");
  EXPECT_EQ(server_.request_count(), 2);
}

TEST_F(RetryTest, ServerErrorsAreRetried) {
  server_.push(ScriptedReply::query_error(500, "InternalError"));
  server_.push(ScriptedReply::respond(503, "<html><body>Service Unavailable</body></html>"));
  server_.set_default(ScriptedReply::respond(200, kCallerIdentity));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(server_.request_count(), 3);
}

TEST_F(RetryTest, ResetConnectionsAreRetried) {
  server_.push(ScriptedReply::reset(), 2);
  server_.set_default(ScriptedReply::respond(200, kCallerIdentity));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(server_.request_count(), 3);
}

TEST_F(RetryTest, TruncatedBodiesAreRetried) {
  server_.push(ScriptedReply::truncated(200, kCallerIdentity), 2);
  server_.set_default(ScriptedReply::respond(200, kCallerIdentity));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(server_.request_count(), 3);
}

TEST_F(RetryTest, AttemptsStopAtMaximum) {
  server_.set_default(ScriptedReply::query_error(400, "Throttling", "Rate exceeded"));
  AwsClient client = make_client(5);

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "Throttling");
  EXPECT_EQ(response.error().attempts, 5);
  EXPECT_EQ(response.error().request_id, "scripted-Throttling");
  EXPECT_EQ(server_.request_count(), 5);
  EXPECT_EQ(sleeps_.size(), 4u);
  expect_sleeps_within_bounds(client.config());
  EXPECT_NE(response.error().to_error().message.find("5 attempts"), std::string::npos);
}

TEST_F(RetryTest, AccessDeniedIsNotRetried) {
  server_.set_default(ScriptedReply::query_error(403, "AccessDenied", "not authorized"));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "AccessDenied");
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_EQ(server_.request_count(), 1);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(RetryTest, ValidationErrorIsNotRetried) {
  server_.set_default(ScriptedReply::json_error(400, "InvalidParameterException", "bad name"));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "CreateLogGroup", {{"logGroupName", ""}});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "InvalidParameterException");
  EXPECT_EQ(server_.request_count(), 1);
}

TEST_F(RetryTest, EveryAttemptIsSignedAgain) {
  server_.push(ScriptedReply::query_error(400, "Throttling"));
  server_.set_default(ScriptedReply::respond(200, kCallerIdentity));
  ClientConfig config = testing::loopback_client_config(server_.endpoint(), &sleeps_);
  int provided = 0;
  config.credentials_provider = [&provided]() -> AwsResult<Credentials> {
    ++provided;
    return Credentials{"AKID" + std::to_string(provided), "secret", "", "test"};
  };
  AwsClient client(config, std::make_shared<CurlTransport>());

  ASSERT_TRUE(client.query(sts_service(), "GetCallerIdentity", {}).ok());

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(find_header(requests[0].headers, "Authorization").find("Credential=AKID1/"), std::string::npos);
  EXPECT_NE(find_header(requests[1].headers, "Authorization").find("Credential=AKID2/"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::aws
