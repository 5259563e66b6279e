// moto_server with IAM authentication on recomputes each request's SigV4
// signature with botocore, so it checks HiveMind's signatures against a
// verifier that shares no code with them: a request signed with the right
// secret passes, and one signed with a wrong secret is rejected with
// SignatureDoesNotMatch.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/curl_transport.h"
#include "aws/sigv4.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using hivemind::testing::MotoOptions;
using hivemind::testing::MotoServer;

// The first three calls pass unauthenticated: CreateUser, PutUserPolicy and
// CreateAccessKey.
constexpr int kSetupCalls = 3;

class SigV4MotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = MotoServer::start(MotoOptions{kSetupCalls}).release();
    if (server_ == nullptr) return;

    std::unique_ptr<AwsClient> setup = server_->make_client();
    const ServiceSpec& iam = hivemind::testing::iam_test_service();
    auto user = setup->query(iam, "CreateUser", {{"UserName", "signer-test"}});
    ASSERT_TRUE(user.ok()) << user.error().to_error().describe();
    auto policy =
        setup->query(iam, "PutUserPolicy",
                     {{"UserName", "signer-test"},
                      {"PolicyName", "everything"},
                      {"PolicyDocument",
                       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}});
    ASSERT_TRUE(policy.ok()) << policy.error().to_error().describe();
    auto key = setup->query(iam, "CreateAccessKey", {{"UserName", "signer-test"}});
    ASSERT_TRUE(key.ok()) << key.error().to_error().describe();

    pugi::xml_node access_key = key->result.child("AccessKey");
    credentials_ = new Credentials{access_key.child_value("AccessKeyId"), access_key.child_value("SecretAccessKey"), "",
                                   "moto IAM user signer-test", std::nullopt};
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete credentials_;
    credentials_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "moto_server with IAM authentication did not start";
    ASSERT_NE(credentials_, nullptr) << "the IAM user's access key was not created";
    ASSERT_FALSE(credentials_->access_key_id.empty());
  }

  // Signs and sends `request` to moto, as STS in us-east-1.
  HttpResponse send_signed(HttpRequest request, const Credentials& credentials) {
    sign_request(request, credentials, {"sts", "us-east-1", std::chrono::system_clock::now()});
    TransportOptions options;
    options.total_timeout = std::chrono::seconds(20);
    auto response = transport_.send(request, options);
    EXPECT_TRUE(response.ok()) << response.error().message;
    return response.ok() ? *response : HttpResponse{};
  }

  HttpRequest caller_identity_post() const {
    return HttpRequest{"POST",
                       server_->endpoint() + "/",
                       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                       "Action=GetCallerIdentity&Version=2011-06-15"};
  }

  static MotoServer* server_;
  static Credentials* credentials_;
  CurlTransport transport_;
};

MotoServer* SigV4MotoTest::server_ = nullptr;
Credentials* SigV4MotoTest::credentials_ = nullptr;

TEST_F(SigV4MotoTest, AcceptsSignedPost) {
  HttpResponse response = send_signed(caller_identity_post(), *credentials_);

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("signer-test"), std::string::npos) << response.body;
}

// NOTE: moto 5.2.1 cannot verify a GET with a query string, because its
// verifier hashes the parsed query as if it were a form body where AWS hashes
// the empty body. It also checks the query after decoding it (so %2F and
// UTF-8 escapes fail there, where AWS re-encodes them). So the query string is
// checked on a POST, with characters that moto leaves encoded. The botocore
// comparison in sigv4_test covers the rest of the encoding.
TEST_F(SigV4MotoTest, AcceptsPostWithEncodedQuery) {
  HttpRequest request = caller_identity_post();
  request.url += "?Note=a%20b&Empty=&Flag";

  HttpResponse response = send_signed(request, *credentials_);

  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(SigV4MotoTest, AcceptsOddlySpacedHeaders) {
  HttpRequest request = caller_identity_post();
  request.headers.emplace_back("X-Hivemind-Note", "  two   spaces\tand a tab  ");

  HttpResponse response = send_signed(request, *credentials_);

  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(SigV4MotoTest, RejectsWrongSecret) {
  Credentials wrong = *credentials_;
  wrong.secret_access_key = "not-the-secret-" + wrong.secret_access_key;

  HttpResponse response = send_signed(caller_identity_post(), wrong);

  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_NE(response.body.find("SignatureDoesNotMatch"), std::string::npos) << response.body;
}

TEST_F(SigV4MotoTest, RejectsBodyChangedAfterSigning) {
  HttpRequest request = caller_identity_post();
  sign_request(request, *credentials_, {"sts", "us-east-1", std::chrono::system_clock::now()});
  request.body += "&Extra=1";

  TransportOptions options;
  auto response = transport_.send(request, options);
  ASSERT_TRUE(response.ok()) << response.error().message;

  EXPECT_EQ(response->status, 403) << response->body;
  EXPECT_NE(response->body.find("SignatureDoesNotMatch"), std::string::npos) << response->body;
}

TEST_F(SigV4MotoTest, RejectsUnknownAccessKey) {
  Credentials unknown = *credentials_;
  unknown.access_key_id = "AKIAUNKNOWNKEY000000";

  HttpResponse response = send_signed(caller_identity_post(), unknown);

  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_NE(response.body.find("InvalidClientTokenId"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace hivemind::aws
