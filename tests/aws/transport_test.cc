// The libcurl transport and the client's handling of bad responses: every
// case ends in a clear AwsError, never a crash or a hang.

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "aws/client.h"
#include "aws/curl_transport.h"
#include "aws/protocol.h"
#include "support/fault_server.h"

namespace hivemind::aws {
namespace {

using namespace std::chrono_literals;
using testing::FaultServer;
using testing::ScriptedReply;

class TransportTest : public ::testing::Test {
 protected:
  AwsClient make_client(const std::string& endpoint, std::optional<TransportOptions> options = std::nullopt) {
    ClientConfig config = testing::loopback_client_config(endpoint, &sleeps_);
    if (options) config.transport = *options;
    return AwsClient(config, std::make_shared<CurlTransport>());
  }
  AwsClient make_client() { return make_client(server_.endpoint()); }

  FaultServer server_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(TransportTest, SendsRequestAndReadsResponse) {
  server_.set_default(ScriptedReply::respond(201, "hello", {{"X-Test", "  spaced value "}}));
  CurlTransport transport;
  HttpRequest request;
  request.method = "POST";
  request.url = server_.endpoint() + "/path?q=1";
  request.headers = {{"Content-Type", "text/plain"}, {"X-Custom", "abc"}};
  request.body = std::string(100'000, 'b');

  auto response = transport.send(request, TransportOptions{});

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(find_header(response->headers, "x-test"), "spaced value");
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/path?q=1");
  EXPECT_EQ(find_header(received[0].headers, "X-Custom"), "abc");
  EXPECT_EQ(find_header(received[0].headers, "Expect"), "");
  EXPECT_EQ(received[0].body, request.body);
}

TEST_F(TransportTest, ClientSendsSignedJsonRequest) {
  server_.set_default(ScriptedReply::respond(200, R"({"logGroups":[]})", {{"x-amzn-RequestId", "json-req-1"}}));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "DescribeLogGroups", {{"limit", 5}});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_EQ(response->request_id, "json-req-1");
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/");
  EXPECT_EQ(find_header(received[0].headers, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(find_header(received[0].headers, "X-Amz-Target"), "Logs_20140328.DescribeLogGroups");
  EXPECT_EQ(received[0].body, R"({"limit":5})");
  EXPECT_NE(find_header(received[0].headers, "Authorization").find("/us-east-1/logs/aws4_request"), std::string::npos);
}

TEST_F(TransportTest, ClientSendsFormEncodedQuery) {
  server_.set_default(
      ScriptedReply::respond(200, "<DescribeVpcsResponse><requestId>r</requestId><vpcSet/></DescribeVpcsResponse>"));
  AwsClient client = make_client();

  auto response = client.query(ec2_service(), "DescribeVpcs", {{"Filter.1.Name", "tag:a b"}});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].body, "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Aa%20b");
  EXPECT_EQ(find_header(received[0].headers, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
}

TEST_F(TransportTest, MalformedXmlIsParseError) {
  server_.set_default(ScriptedReply::respond(200, "<DescribeVpcsResponse><vpcSet><item>"));
  AwsClient client = make_client();

  auto response = client.query(ec2_service(), "DescribeVpcs", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_EQ(response.error().code, kParseMalformedResponse);
  EXPECT_EQ(response.error().http_status, 200);
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_NE(response.error().message.find("not XML"), std::string::npos) << response.error().message;
}

TEST_F(TransportTest, WrongXmlDocumentIsParseError) {
  server_.set_default(ScriptedReply::respond(200, "<SomethingElse/>"));
  AwsClient client = make_client();

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_NE(response.error().message.find("<GetCallerIdentityResponse>"), std::string::npos);
}

TEST_F(TransportTest, MalformedJsonIsParseError) {
  server_.set_default(ScriptedReply::respond(200, R"({"logGroups": [)"));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "DescribeLogGroups", nlohmann::json::object());

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_EQ(response.error().service, "logs");
  EXPECT_EQ(response.error().operation, "DescribeLogGroups");
}

TEST_F(TransportTest, HtmlErrorPageIsQuotedInParseError) {
  server_.set_default(ScriptedReply::respond(403, "<html><body><h1>Forbidden by proxy</h1></body></html>",
                                             {{"Content-Type", "text/html"}}));
  AwsClient client = make_client();

  auto response = client.json(ssm_service(), "GetParameter", {{"Name", "x"}});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_EQ(response.error().http_status, 403);
  EXPECT_NE(response.error().message.find("Forbidden by proxy"), std::string::npos) << response.error().message;
}

TEST_F(TransportTest, HtmlServiceUnavailableIsRetriedThenReported) {
  server_.set_default(ScriptedReply::respond(503, "<html><head><title>503</title></head><body><br></body></html>"));
  AwsClient client = make_client();

  auto response = client.query(ec2_service(), "DescribeVpcs", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().http_status, 503);
  EXPECT_EQ(response.error().attempts, 3);
  EXPECT_EQ(server_.request_count(), 3);
}

TEST_F(TransportTest, EmptyQueryBodyIsParseError) {
  server_.set_default(ScriptedReply::respond(200, ""));
  AwsClient client = make_client();

  auto response = client.query(rds_service(), "DescribeDBInstances", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_NE(response.error().message.find("empty body"), std::string::npos);
}

TEST_F(TransportTest, EmptyJsonBodyIsEmptyObject) {
  server_.set_default(ScriptedReply::respond(200, ""));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "DeleteLogGroup", {{"logGroupName", "x"}});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_TRUE(response->body.is_object());
  EXPECT_TRUE(response->body.empty());
}

TEST_F(TransportTest, EmptyErrorBodyIsParseErrorWithStatus) {
  server_.set_default(ScriptedReply::respond(400, ""));
  AwsClient client = make_client();

  auto response = client.json(logs_service(), "DescribeLogGroups", nlohmann::json::object());

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kParse);
  EXPECT_EQ(response.error().http_status, 400);
}

TEST_F(TransportTest, ConnectionRefusedIsRetriedThenNamesEndpoint) {
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(testing::closed_loopback_port());
  AwsClient client = make_client(endpoint);

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kTransport);
  EXPECT_EQ(response.error().code, kTransportConnectionRefused);
  EXPECT_EQ(response.error().attempts, 3);
  EXPECT_EQ(response.error().endpoint, endpoint + "/");
  EXPECT_NE(response.error().to_error().describe().find(endpoint), std::string::npos);
  EXPECT_NE(response.error().remediation().find("AWS_ENDPOINT_URL"), std::string::npos);
}

TEST_F(TransportTest, UnresolvableHostIsDnsFailure) {
  // The .invalid top-level domain never resolves (RFC 2606).
  AwsClient client = make_client("http://hivemind-test.invalid:8080");

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, kTransportDnsFailure);
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_NE(response.error().explanation().find("did not resolve"), std::string::npos);
}

TEST_F(TransportTest, SilentServerTimesOut) {
  server_.set_default(ScriptedReply::hang());
  TransportOptions options;
  options.connect_timeout = 1s;
  options.total_timeout = 300ms;
  AwsClient client = make_client(server_.endpoint(), options);

  auto response = client.query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kTransport);
  EXPECT_EQ(response.error().code, kTransportTimeout);
  EXPECT_EQ(response.error().attempts, 3);
}

TEST_F(TransportTest, OversizedResponseWithLengthIsRejected) {
  server_.set_default(ScriptedReply::large(8 * 1024 * 1024));
  TransportOptions options;
  options.max_response_bytes = 1024 * 1024;
  options.total_timeout = 20s;
  AwsClient client = make_client(server_.endpoint(), options);

  auto response = client.query(ec2_service(), "DescribeInstances", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, kTransportResponseTooLarge);
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_NE(response.error().message.find("1048576 bytes"), std::string::npos) << response.error().message;
}

TEST_F(TransportTest, OversizedResponseWithoutLengthIsRejected) {
  server_.set_default(ScriptedReply::large(8 * 1024 * 1024, /*with_length=*/false));
  TransportOptions options;
  options.max_response_bytes = 1024 * 1024;
  options.total_timeout = 20s;
  AwsClient client = make_client(server_.endpoint(), options);

  auto response = client.query(ec2_service(), "DescribeInstances", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, kTransportResponseTooLarge);
  EXPECT_EQ(response.error().attempts, 1);
}

TEST_F(TransportTest, ManyThreadsShareOneClient) {
  server_.set_default(ScriptedReply::respond(200, R"({"logGroups":[]})"));
  AwsClient client = make_client();
  std::atomic<int> succeeded{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (client.json(logs_service(), "DescribeLogGroups", nlohmann::json::object()).ok()) ++succeeded;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(succeeded, 40);
  EXPECT_EQ(server_.request_count(), 40);
}

}  // namespace
}  // namespace hivemind::aws
