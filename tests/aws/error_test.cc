// The table of common AWS errors: each code becomes one plain sentence and a
// next step, and to_error() carries the call's identity.

#include "aws/error.h"

#include <gtest/gtest.h>

#include "aws/client.h"

namespace hivemind::aws {
namespace {

AwsError make(std::string service, std::string operation, std::string code, std::string message = "") {
  AwsError error;
  error.kind = ErrorKind::kService;
  error.service = std::move(service);
  error.operation = std::move(operation);
  error.code = std::move(code);
  error.message = std::move(message);
  error.http_status = 400;
  error.request_id = "req-123";
  return error;
}

AwsError transport(const char* code) {
  AwsError error = make("ec2", "DescribeVpcs", code, "POST http://127.0.0.1:9/: connection refused");
  error.kind = ErrorKind::kTransport;
  error.http_status = 0;
  error.request_id.clear();
  error.endpoint = "http://127.0.0.1:9/";
  return error;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(AwsErrorTest, IamActionUsesServicePrefix) {
  EXPECT_EQ(make("ec2", "RunInstances", "X").iam_action(), "ec2:RunInstances");
  EXPECT_EQ(make("elbv2", "CreateLoadBalancer", "X").iam_action(), "elasticloadbalancing:CreateLoadBalancer");
  EXPECT_EQ(make("cloudwatch", "PutDashboard", "X").iam_action(), "cloudwatch:PutDashboard");
  EXPECT_EQ(make("tagging", "GetResources", "X").iam_action(), "tag:GetResources");
  EXPECT_EQ(make("iam", "CreateUser", "X").iam_action(), "iam:CreateUser");
}

TEST(AwsErrorTest, UnauthorizedOperationNamesIamAction) {
  const AwsError error = make("ec2", "RunInstances", "UnauthorizedOperation", "You are not authorized.");

  EXPECT_TRUE(contains(error.explanation(), "ec2:RunInstances")) << error.explanation();
  EXPECT_TRUE(contains(error.remediation(), "Grant ec2:RunInstances")) << error.remediation();
}

TEST(AwsErrorTest, AccessDeniedNamesIamAction) {
  for (const char* code : {"AccessDenied", "AccessDeniedException"}) {
    const AwsError error = make("logs", "CreateLogGroup", code);
    EXPECT_TRUE(contains(error.remediation(), "Grant logs:CreateLogGroup")) << code;
  }
}

TEST(AwsErrorTest, CredentialCodesPointAtKeys) {
  EXPECT_TRUE(contains(make("sts", "GetCallerIdentity", "InvalidClientTokenId").remediation(), "AWS_ACCESS_KEY_ID"));
  EXPECT_TRUE(
      contains(make("sts", "GetCallerIdentity", "SignatureDoesNotMatch").remediation(), "AWS_SECRET_ACCESS_KEY"));
  EXPECT_TRUE(contains(make("sts", "GetCallerIdentity", "ExpiredToken").explanation(), "expired"));
  EXPECT_TRUE(contains(make("ec2", "DescribeVpcs", "RequestExpired").remediation(), "clock"));
}

TEST(AwsErrorTest, EveryTableCodeHasOwnSentence) {
  for (const char* code : {"AccessDenied",
                           "AccessDeniedException",
                           "UnauthorizedOperation",
                           "InvalidClientTokenId",
                           "SignatureDoesNotMatch",
                           "ExpiredToken",
                           "RequestExpired",
                           "OptInRequired",
                           "VcpuLimitExceeded",
                           "InstanceLimitExceeded",
                           "AddressLimitExceeded",
                           "VpcLimitExceeded",
                           "InsufficientInstanceCapacity",
                           "DependencyViolation",
                           "InvalidParameterValue",
                           "InvalidParameterCombination",
                           "DBInstanceAlreadyExists",
                           "DBInstanceNotFound",
                           "Throttling",
                           "InvalidAMIID.NotFound",
                           "InvalidKeyPair.Duplicate"}) {
    const AwsError error = make("ec2", "RunInstances", code, "aws-message-text");
    // A code outside the table explains itself with AWS's message alone.
    EXPECT_NE(error.explanation(), "aws-message-text") << code;
    EXPECT_FALSE(error.remediation().empty()) << code;
    EXPECT_FALSE(contains(error.explanation(), "{")) << code << ": " << error.explanation();
    EXPECT_FALSE(contains(error.remediation(), "{")) << code << ": " << error.remediation();
  }
}

TEST(AwsErrorTest, ThrottlingVariantsShareThrottlingSentence) {
  AwsError error = make("logs", "PutLogEvents", "ThrottlingException");
  error.attempts = 3;

  EXPECT_TRUE(contains(error.explanation(), "throttled logs:PutLogEvents")) << error.explanation();
  EXPECT_TRUE(contains(error.explanation(), "3 attempts")) << error.explanation();
}

TEST(AwsErrorTest, MessageFillsParameterSentences) {
  const AwsError error = make("ec2", "CreateSubnet", "InvalidParameterValue", "Value (10.0.0.0/33) for CidrBlock");

  EXPECT_EQ(error.explanation(), "AWS rejected a parameter value of CreateSubnet: Value (10.0.0.0/33) for CidrBlock");
}

TEST(AwsErrorTest, UnknownCodeFallsBackToAwsMessage) {
  const AwsError error = make("rds", "CreateDBInstance", "StorageQuotaExceeded", "Storage quota reached.");

  EXPECT_EQ(error.explanation(), "Storage quota reached.");
  EXPECT_TRUE(contains(error.remediation(), "req-123"));
}

TEST(AwsErrorTest, ConnectionRefusedNamesEndpointAndSettings) {
  const AwsError error = transport(kTransportConnectionRefused);

  EXPECT_TRUE(contains(error.explanation(), "http://127.0.0.1:9/")) << error.explanation();
  EXPECT_TRUE(contains(error.remediation(), "AWS_ENDPOINT_URL")) << error.remediation();
  EXPECT_TRUE(contains(error.remediation(), "sandbox")) << error.remediation();
}

TEST(AwsErrorTest, TransportFailuresEachHaveSentence) {
  EXPECT_TRUE(contains(transport(kTransportDnsFailure).explanation(), "did not resolve"));
  EXPECT_TRUE(contains(transport(kTransportTimeout).explanation(), "did not answer in time"));
  EXPECT_TRUE(contains(transport(kTransportTls).explanation(), "TLS"));
  EXPECT_TRUE(contains(transport(kTransportConnectionReset).explanation(), "closed before"));
  EXPECT_TRUE(contains(transport(kTransportResponseTooLarge).explanation(), "larger than the size limit"));
  EXPECT_TRUE(contains(transport(kTransportOther).explanation(), "connection refused"));
}

TEST(AwsErrorTest, ToErrorCarriesCallIdentity) {
  AwsError error = make("ec2", "RunInstances", "UnauthorizedOperation", "You are not authorized.");
  error.http_status = 403;
  error.attempts = 1;

  const Error converted = error.to_error();

  EXPECT_EQ(converted.code, "aws.UnauthorizedOperation");
  EXPECT_EQ(converted.message,
            "ec2 RunInstances failed: The AWS identity is not allowed to call ec2:RunInstances. AWS message: You are "
            "not authorized. [code UnauthorizedOperation, HTTP 403, request id req-123]");
  EXPECT_TRUE(contains(converted.remediation, "Grant ec2:RunInstances"));
}

TEST(AwsErrorTest, ToErrorDoesNotRepeatQuotedMessage) {
  const AwsError error = make("ec2", "DeleteVpc", "DependencyViolation", "vpc-1 has dependencies");

  const std::string message = error.to_error().message;

  EXPECT_EQ(message.find("vpc-1 has dependencies"), message.rfind("vpc-1 has dependencies")) << message;
}

}  // namespace
}  // namespace hivemind::aws
