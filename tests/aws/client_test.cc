// AwsClient against a real moto_server: one or more calls per protocol and
// service, and service errors typed with code, message, request id and status.

#include "aws/client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class AwsClientTest : public MotoTest {};

std::string vpc_id_of(const XmlResponse& response) {
  return response.result.child("vpc").child("vpcId").text().as_string();
}

TEST_F(AwsClientTest, Ec2DescribeRegionsListsRegions) {
  auto response = client().query(ec2_service(), "DescribeRegions", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_FALSE(response->request_id.empty());
  int regions = 0;
  for (pugi::xml_node item : response->result.child("regionInfo").children("item")) {
    if (std::string(item.child("regionName").text().as_string()) == "us-east-1") ++regions;
  }
  EXPECT_EQ(regions, 1);
}

TEST_F(AwsClientTest, Ec2CreateVpcThenDescribeFindsIt) {
  auto created = client().query(ec2_service(), "CreateVpc",
                                {{"CidrBlock", "10.7.0.0/16"},
                                 {"TagSpecification.1.ResourceType", "vpc"},
                                 {"TagSpecification.1.Tag.1.Key", "hivemind:test"},
                                 {"TagSpecification.1.Tag.1.Value", "a b&c=d"}});
  ASSERT_TRUE(created.ok()) << created.error().to_error().describe();
  const std::string vpc_id = vpc_id_of(*created);
  ASSERT_FALSE(vpc_id.empty());

  auto described = client().query(ec2_service(), "DescribeVpcs",
                                  {{"Filter.1.Name", "tag:hivemind:test"}, {"Filter.1.Value.1", "a b&c=d"}});
  ASSERT_TRUE(described.ok()) << described.error().to_error().describe();
  std::vector<std::string> ids;
  for (pugi::xml_node item : described->result.child("vpcSet").children("item")) {
    ids.emplace_back(item.child("vpcId").text().as_string());
  }
  EXPECT_EQ(ids, std::vector<std::string>{vpc_id});
}

TEST_F(AwsClientTest, Ec2ErrorIsTyped) {
  auto deleted = client().query(ec2_service(), "DeleteVpc", {{"VpcId", "vpc-00000000000000000"}});

  ASSERT_FALSE(deleted.ok());
  const AwsError& error = deleted.error();
  EXPECT_EQ(error.kind, ErrorKind::kService);
  EXPECT_EQ(error.service, "ec2");
  EXPECT_EQ(error.operation, "DeleteVpc");
  EXPECT_EQ(error.code, "InvalidVpcID.NotFound");
  EXPECT_NE(error.message.find("vpc-00000000000000000"), std::string::npos) << error.message;
  EXPECT_FALSE(error.request_id.empty());
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.attempts, 1);
  EXPECT_EQ(error.endpoint, moto().endpoint() + "/");
}

TEST_F(AwsClientTest, Ec2DeleteVpcWithSubnetIsDependencyViolation) {
  auto vpc = client().query(ec2_service(), "CreateVpc", {{"CidrBlock", "10.8.0.0/16"}});
  ASSERT_TRUE(vpc.ok());
  const std::string vpc_id = vpc_id_of(*vpc);
  auto subnet = client().query(ec2_service(), "CreateSubnet", {{"VpcId", vpc_id}, {"CidrBlock", "10.8.1.0/24"}});
  ASSERT_TRUE(subnet.ok()) << subnet.error().to_error().describe();

  auto deleted = client().query(ec2_service(), "DeleteVpc", {{"VpcId", vpc_id}});

  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code, "DependencyViolation");
  EXPECT_NE(deleted.error().remediation().find("dependent resources"), std::string::npos);
}

TEST_F(AwsClientTest, Elbv2DescribeLoadBalancersIsEmptyAfterReset) {
  auto response = client().query(elbv2_service(), "DescribeLoadBalancers", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_STREQ(response->result.name(), "DescribeLoadBalancersResult");
  EXPECT_FALSE(response->result.child("LoadBalancers").first_child());
  EXPECT_FALSE(response->request_id.empty());
}

TEST_F(AwsClientTest, Elbv2UnknownLoadBalancerIsQueryError) {
  auto response = client().query(
      elbv2_service(), "DescribeLoadBalancers",
      {{"LoadBalancerArns.member.1",
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/missing/50dc6c495c0c9188"}});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kService);
  EXPECT_EQ(response.error().code, "LoadBalancerNotFound");
  EXPECT_EQ(response.error().http_status, 400);
}

TEST_F(AwsClientTest, RdsMissingInstanceIsDbInstanceNotFound) {
  auto response = client().query(rds_service(), "DescribeDBInstances", {{"DBInstanceIdentifier", "missing-db"}});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, "DBInstanceNotFound");
  EXPECT_EQ(response.error().http_status, 404);
  EXPECT_NE(response.error().explanation().find("does not exist"), std::string::npos);
}

TEST_F(AwsClientTest, StsGetCallerIdentityReturnsAccount) {
  auto response = client().query(sts_service(), "GetCallerIdentity", {});

  ASSERT_TRUE(response.ok()) << response.error().to_error().describe();
  EXPECT_STREQ(response->result.name(), "GetCallerIdentityResult");
  EXPECT_EQ(std::string(response->result.child("Account").text().as_string()).size(), 12u);
  EXPECT_FALSE(response->request_id.empty());
}

TEST_F(AwsClientTest, MonitoringPutThenListDashboards) {
  auto put = client().query(monitoring_service(), "PutDashboard",
                            {{"DashboardName", "hivemind-test"}, {"DashboardBody", R"({"widgets":[]})"}});
  ASSERT_TRUE(put.ok()) << put.error().to_error().describe();

  auto listed = client().query(monitoring_service(), "ListDashboards", {});

  ASSERT_TRUE(listed.ok()) << listed.error().to_error().describe();
  pugi::xml_node entry = listed->result.child("DashboardEntries").child("member");
  EXPECT_STREQ(entry.child("DashboardName").text().as_string(), "hivemind-test");
}

TEST_F(AwsClientTest, LogsCreateThenDescribeLogGroups) {
  auto created = client().json(logs_service(), "CreateLogGroup", {{"logGroupName", "/hivemind/test"}});
  ASSERT_TRUE(created.ok()) << created.error().to_error().describe();

  auto described = client().json(logs_service(), "DescribeLogGroups", {{"logGroupNamePrefix", "/hivemind"}});

  ASSERT_TRUE(described.ok()) << described.error().to_error().describe();
  ASSERT_EQ(described->body["logGroups"].size(), 1u);
  EXPECT_EQ(described->body["logGroups"][0]["logGroupName"], "/hivemind/test");
}

TEST_F(AwsClientTest, LogsDuplicateGroupIsJsonErrorWithoutPrefix) {
  ASSERT_TRUE(client().json(logs_service(), "CreateLogGroup", {{"logGroupName", "/hivemind/twice"}}).ok());

  auto again = client().json(logs_service(), "CreateLogGroup", {{"logGroupName", "/hivemind/twice"}});

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kService);
  EXPECT_EQ(again.error().code, "ResourceAlreadyExistsException");
  EXPECT_EQ(again.error().service, "logs");
  EXPECT_EQ(again.error().http_status, 400);
  EXPECT_FALSE(again.error().message.empty());
}

TEST_F(AwsClientTest, SsmPutThenGetSecureParameter) {
  auto put =
      client().json(ssm_service(), "PutParameter",
                    {{"Name", "/hivemind/test/db-password"}, {"Value", "s3cret value"}, {"Type", "SecureString"}});
  ASSERT_TRUE(put.ok()) << put.error().to_error().describe();
  EXPECT_EQ(put->body["Version"], 1);

  auto got =
      client().json(ssm_service(), "GetParameter", {{"Name", "/hivemind/test/db-password"}, {"WithDecryption", true}});

  ASSERT_TRUE(got.ok()) << got.error().to_error().describe();
  EXPECT_EQ(got->body["Parameter"]["Value"], "s3cret value");
}

TEST_F(AwsClientTest, SsmMissingParameterIsParameterNotFound) {
  auto got = client().json(ssm_service(), "GetParameter", {{"Name", "/hivemind/missing"}});

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, "ParameterNotFound");
}

TEST_F(AwsClientTest, TaggingGetResourcesFindsTaggedVpc) {
  auto vpc = client().query(ec2_service(), "CreateVpc",
                            {{"CidrBlock", "10.9.0.0/16"},
                             {"TagSpecification.1.ResourceType", "vpc"},
                             {"TagSpecification.1.Tag.1.Key", "hivemind:deployment"},
                             {"TagSpecification.1.Tag.1.Value", "hm-test"}});
  ASSERT_TRUE(vpc.ok());

  auto found = client().json(tagging_service(), "GetResources",
                             {{"TagFilters", {{{"Key", "hivemind:deployment"}, {"Values", {"hm-test"}}}}}});

  ASSERT_TRUE(found.ok()) << found.error().to_error().describe();
  ASSERT_EQ(found->body["ResourceTagMappingList"].size(), 1u);
  const std::string arn = found->body["ResourceTagMappingList"][0]["ResourceARN"];
  EXPECT_NE(arn.find(vpc_id_of(*vpc)), std::string::npos) << arn;
}

TEST_F(AwsClientTest, CostExplorerAnswersGetCostAndUsage) {
  auto costs = client().json(cost_explorer_service(), "GetCostAndUsage",
                             {{"TimePeriod", {{"Start", "2026-11-01"}, {"End", "2026-12-01"}}},
                              {"Granularity", "MONTHLY"},
                              {"Metrics", {"UnblendedCost"}}});

  ASSERT_TRUE(costs.ok()) << costs.error().to_error().describe();
  EXPECT_TRUE(costs->body.contains("ResultsByTime"));
}

TEST_F(AwsClientTest, ClientWithoutCredentialsFailsBeforeSending) {
  ClientConfig config = moto().client_config();
  config.credentials = Credentials{};
  auto unsigned_client = moto().make_client(config);

  auto response = unsigned_client->query(sts_service(), "GetCallerIdentity", {});

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kCredentials);
  EXPECT_EQ(response.error().code, kCredentialsMissing);
  EXPECT_EQ(response.error().attempts, 1);
}

TEST_F(AwsClientTest, CredentialsProviderIsAskedOnEveryCall) {
  ClientConfig config = moto().client_config();
  int asked = 0;
  config.credentials_provider = [&asked]() -> AwsResult<Credentials> {
    ++asked;
    return testing::dummy_credentials();
  };
  auto provided_client = moto().make_client(config);

  ASSERT_TRUE(provided_client->query(sts_service(), "GetCallerIdentity", {}).ok());
  ASSERT_TRUE(provided_client->query(sts_service(), "GetCallerIdentity", {}).ok());

  EXPECT_EQ(asked, 2);
}

TEST_F(AwsClientTest, CallsAreLoggedWithoutSecrets) {
  testing::TempDir folder;
  const auto log_file = folder.path() / "aws.log";
  log::configure(log_file, spdlog::level::debug, /*echo_to_stderr=*/false);

  auto put = client().json(ssm_service(), "PutParameter",
                           {{"Name", "/hivemind/log-test"}, {"Value", "never-in-the-log"}, {"Type", "SecureString"}});
  auto missing = client().query(ec2_service(), "DeleteVpc", {{"VpcId", "vpc-00000000000000000"}});
  log::get("aws")->flush();
  log::configure_stderr(spdlog::level::off);

  ASSERT_TRUE(put.ok());
  ASSERT_FALSE(missing.ok());
  std::ifstream input(log_file);
  std::stringstream text;
  text << input.rdbuf();
  const std::string logged = text.str();
  EXPECT_NE(logged.find("ssm PutParameter: HTTP 200"), std::string::npos) << logged;
  EXPECT_NE(logged.find("request id " + put->request_id), std::string::npos) << logged;
  EXPECT_NE(logged.find("ec2 DeleteVpc: failed with InvalidVpcID.NotFound (HTTP 400) after 1 attempt(s)"),
            std::string::npos)
      << logged;
  EXPECT_EQ(logged.find("never-in-the-log"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("AWS4-HMAC-SHA256"), std::string::npos) << logged;
}

TEST(ClientTokenTest, TokensAreDistinctVersion4Uuids) {
  const std::string first = new_client_token();
  const std::string second = new_client_token();

  EXPECT_NE(first, second);
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(first[8], '-');
  EXPECT_EQ(first[14], '4');
  EXPECT_NE(std::string("89ab").find(first[19]), std::string::npos) << first;
}

}  // namespace
}  // namespace hivemind::aws
