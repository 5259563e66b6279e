// The client on a moto_server with IAM authentication on. There moto checks
// every SigV4 signature and every IAM policy. These tests show that
// HiveMind's signed requests pass, and that bad keys and missing permissions
// come back as the right typed errors.

#include <gtest/gtest.h>

#include "aws/client.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::IamUser;
using testing::MotoServer;

// Allows reading VPCs and the caller identity, and nothing else.
constexpr const char* kReadOnlyPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["ec2:DescribeVpcs", "sts:GetCallerIdentity"], "Resource": "*"}
  ]
})";

// One authenticated server and user for the whole suite: its first calls are
// spent creating the user, so it cannot be reset between tests.
class IamAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = MotoServer::start({.initial_no_auth_action_count = testing::kIamUserSetupCalls}).release();
    if (server_ == nullptr) return;
    auto created = testing::create_iam_user(*server_, "hivemind-deployer", kReadOnlyPolicy);
    if (created) user_ = new IamUser(*created);
  }

  static void TearDownTestSuite() {
    delete user_;
    user_ = nullptr;
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "the authenticated moto_server did not start";
    ASSERT_NE(user_, nullptr) << "the IAM user could not be created";
  }

  std::unique_ptr<AwsClient> client_with(Credentials credentials) {
    ClientConfig config = server_->client_config();
    config.credentials = std::move(credentials);
    return server_->make_client(config);
  }

  static MotoServer* server_;
  static IamUser* user_;
};

MotoServer* IamAuthTest::server_ = nullptr;
IamUser* IamAuthTest::user_ = nullptr;

TEST_F(IamAuthTest, SignedAllowedCallSucceeds) {
  auto client = client_with(user_->credentials);

  auto response = client->query(ec2_service(), "DescribeVpcs", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
}

TEST_F(IamAuthTest, WrongSecretIsSignatureDoesNotMatch) {
  Credentials wrong = user_->credentials;
  wrong.secret_access_key += "x";
  auto client = client_with(wrong);

  auto response = client->query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kService);
  EXPECT_EQ(response.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_NE(response.error().remediation().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

// EC2 reports a bad signature with its own code, as AWS does.
TEST_F(IamAuthTest, WrongSecretOnEc2IsAuthFailure) {
  Credentials wrong = user_->credentials;
  wrong.secret_access_key += "x";
  auto client = client_with(wrong);

  auto response = client->query(ec2_service(), "DescribeVpcs", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "AuthFailure");
  EXPECT_EQ(response.error().attempts, 1);
  EXPECT_NE(response.error().remediation().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(IamAuthTest, UnknownKeyIsInvalidClientTokenId) {
  auto client = client_with(Credentials{"AKIAUNKNOWNKEY000000", "whatever", "", "test"});

  auto response = client->query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "InvalidClientTokenId");
  EXPECT_EQ(response.error().http_status, 403);
}

// AWS rejects EC2 calls without permission with UnauthorizedOperation, but
// moto 5.2.1 returns AccessDenied. The error table treats both alike.
TEST_F(IamAuthTest, MissingPermissionNamesAction) {
  auto client = client_with(user_->credentials);

  auto response = client->query(ec2_service(), "CreateVpc", {{"CidrBlock", "10.1.0.0/16"}});

  ASSERT_FALSE(response.ok());
  const AwsError& error = response.error();
  EXPECT_EQ(error.code, "AccessDenied");
  EXPECT_NE(error.message.find("ec2:CreateVpc"), std::string::npos) << error.message;
  EXPECT_NE(error.remediation().find("Grant ec2:CreateVpc"), std::string::npos) << error.remediation();
}

TEST_F(IamAuthTest, MissingJsonPermissionIsAccessDenied) {
  auto client = client_with(user_->credentials);

  auto response = client->json(logs_service(), "CreateLogGroup", {{"logGroupName", "/hivemind/denied"}});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "AccessDenied") << response.error().to_error().describe();
  EXPECT_NE(response.error().remediation().find("Grant logs:CreateLogGroup"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::aws
