#include "aws/settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace hivemind::aws {
namespace {

using hivemind::testing::TempDir;

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    environment_.home = home_.path();
    environment_.variables["AWS_EC2_METADATA_DISABLED"] = "true";
  }

  void write_config(const std::string& text) {
    std::filesystem::create_directories(home_.path() / ".aws");
    std::ofstream(home_.path() / ".aws/config") << text;
  }

  Profile profile(const std::string& name = "") {
    auto loaded = load_profile(environment_, name);
    EXPECT_TRUE(loaded.ok()) << loaded.error().describe();
    return loaded.ok() ? *loaded : Profile{};
  }

  void set_keys() {
    environment_.variables["AWS_ACCESS_KEY_ID"] = "AKIATEST";
    environment_.variables["AWS_SECRET_ACCESS_KEY"] = "secret";
  }

  TempDir home_;
  Environment environment_;
};

TEST_F(SettingsTest, RegionFlagBeatsEverything) {
  environment_.variables["AWS_REGION"] = "eu-west-1";
  environment_.variables["AWS_DEFAULT_REGION"] = "eu-west-2";
  write_config("[default]\nregion = eu-west-3\n");
  std::string source;

  auto region = resolve_region(environment_, profile(), "ap-south-1", &source);

  ASSERT_TRUE(region.ok()) << region.error().describe();
  EXPECT_EQ(*region, "ap-south-1");
  EXPECT_EQ(source, "--region");
}

TEST_F(SettingsTest, RegionOrderAfterFlag) {
  write_config("[default]\nregion = eu-west-3\n");
  EXPECT_EQ(resolve_region(environment_, profile(), "").value_or("?"), "eu-west-3");

  environment_.variables["AWS_DEFAULT_REGION"] = "eu-west-2";
  EXPECT_EQ(resolve_region(environment_, profile(), "").value_or("?"), "eu-west-2");

  environment_.variables["AWS_REGION"] = "eu-west-1";
  EXPECT_EQ(resolve_region(environment_, profile(), "").value_or("?"), "eu-west-1");
}

TEST_F(SettingsTest, RegionFromNamedProfile) {
  write_config("[default]\nregion = us-east-1\n[profile dev]\nregion = sa-east-1\n");
  std::string source;

  auto region = resolve_region(environment_, profile("dev"), "", &source);

  ASSERT_TRUE(region.ok()) << region.error().describe();
  EXPECT_EQ(*region, "sa-east-1");
  EXPECT_EQ(source, "region in profile dev in " + (home_.path() / ".aws/config").string());
}

TEST_F(SettingsTest, MissingRegionExplainsWhatToSet) {
  auto region = resolve_region(environment_, profile(), "");

  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error().code, "config.missing_region");
  EXPECT_EQ(region.error().message,
            "No AWS region is set: no --region flag, no AWS_REGION or AWS_DEFAULT_REGION, and no region in profile "
            "default in " +
                (home_.path() / ".aws/config").string() + ".");
  EXPECT_NE(region.error().remediation.find("--region"), std::string::npos);
}

TEST_F(SettingsTest, InvalidRegionIsRejected) {
  environment_.variables["AWS_REGION"] = "us-east-1.evil.example/";

  auto region = resolve_region(environment_, profile(), "");

  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error().code, "config.invalid_value");
  EXPECT_NE(region.error().message.find("AWS_REGION"), std::string::npos);
}

TEST_F(SettingsTest, EndpointVariableNames) {
  EXPECT_EQ(endpoint_variable_name(ec2_service().id), "AWS_ENDPOINT_URL_EC2");
  EXPECT_EQ(endpoint_variable_name(elbv2_service().id), "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2");
  EXPECT_EQ(endpoint_variable_name(rds_service().id), "AWS_ENDPOINT_URL_RDS");
  EXPECT_EQ(endpoint_variable_name(monitoring_service().id), "AWS_ENDPOINT_URL_CLOUDWATCH");
  EXPECT_EQ(endpoint_variable_name(sts_service().id), "AWS_ENDPOINT_URL_STS");
  EXPECT_EQ(endpoint_variable_name(logs_service().id), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
  EXPECT_EQ(endpoint_variable_name(cost_explorer_service().id), "AWS_ENDPOINT_URL_COST_EXPLORER");
  EXPECT_EQ(endpoint_variable_name(ssm_service().id), "AWS_ENDPOINT_URL_SSM");
  EXPECT_EQ(endpoint_variable_name(tagging_service().id), "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API");
  EXPECT_EQ(endpoint_variable_name("Elastic Load Balancing v2"), "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2");
}

TEST_F(SettingsTest, DefaultEndpoints) {
  EXPECT_EQ(default_endpoint(ec2_service(), "eu-west-1"), "https://ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(default_endpoint(elbv2_service(), "us-west-2"), "https://elasticloadbalancing.us-west-2.amazonaws.com");
  EXPECT_EQ(default_endpoint(monitoring_service(), "us-east-2"), "https://monitoring.us-east-2.amazonaws.com");
  EXPECT_EQ(default_endpoint(tagging_service(), "eu-central-1"), "https://tagging.eu-central-1.amazonaws.com");
  EXPECT_EQ(default_endpoint(cost_explorer_service(), "eu-west-1"), "https://ce.us-east-1.amazonaws.com");
  EXPECT_EQ(default_endpoint(ec2_service(), "cn-north-1"), "https://ec2.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(default_endpoint(cost_explorer_service(), "cn-north-1"), "https://ce.cn-northwest-1.amazonaws.com.cn");
}

TEST_F(SettingsTest, EndpointPrecedence) {
  write_config(
      "[default]\nendpoint_url = http://127.0.0.1:4004\nservices = local\n"
      "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:4003\n");
  auto resolve = [&] { return resolve_endpoint(ec2_service(), "eu-west-1", environment_, profile()).value_or("?"); };

  EXPECT_EQ(resolve(), "http://127.0.0.1:4003");
  EXPECT_EQ(resolve_endpoint(logs_service(), "eu-west-1", environment_, profile()).value_or("?"),
            "http://127.0.0.1:4004");

  environment_.variables["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4002";
  EXPECT_EQ(resolve(), "http://127.0.0.1:4002");

  environment_.variables["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:4001/";
  EXPECT_EQ(resolve(), "http://127.0.0.1:4001");

  EXPECT_EQ(
      resolve_endpoint(ec2_service(), "eu-west-1", environment_, profile(), "http://127.0.0.1:4000").value_or("?"),
      "http://127.0.0.1:4000");
}

TEST_F(SettingsTest, ServiceVariableAppliesToItsServiceOnly) {
  environment_.variables["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = "http://127.0.0.1:5001";

  EXPECT_EQ(resolve_endpoint(logs_service(), "us-east-1", environment_, profile()).value_or("?"),
            "http://127.0.0.1:5001");
  EXPECT_EQ(resolve_endpoint(monitoring_service(), "us-east-1", environment_, profile()).value_or("?"),
            "https://monitoring.us-east-1.amazonaws.com");
}

TEST_F(SettingsTest, IgnoreConfiguredEndpointsKeepsFlag) {
  environment_.variables["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4002";
  environment_.variables["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";

  EXPECT_EQ(resolve_endpoint(ec2_service(), "us-east-1", environment_, profile()).value_or("?"),
            "https://ec2.us-east-1.amazonaws.com");
  EXPECT_EQ(
      resolve_endpoint(ec2_service(), "us-east-1", environment_, profile(), "http://127.0.0.1:4000").value_or("?"),
      "http://127.0.0.1:4000");
}

TEST_F(SettingsTest, IgnoreConfiguredEndpointsFromProfile) {
  write_config("[default]\nendpoint_url = http://127.0.0.1:4004\nignore_configured_endpoint_urls = true\n");

  EXPECT_EQ(resolve_endpoint(ec2_service(), "us-east-1", environment_, profile()).value_or("?"),
            "https://ec2.us-east-1.amazonaws.com");
}

TEST_F(SettingsTest, EndpointWithoutSchemeIsRejected) {
  environment_.variables["AWS_ENDPOINT_URL_STS"] = "127.0.0.1:5000";

  auto endpoint = resolve_endpoint(sts_service(), "us-east-1", environment_, profile());

  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.error().message,
            "Invalid value \"127.0.0.1:5000\" for AWS_ENDPOINT_URL_STS: expected an http:// or https:// URL.");
}

TEST_F(SettingsTest, MaxAttemptsOrder) {
  EXPECT_EQ(resolve_max_attempts(environment_, profile()).value_or(-1), 3);

  write_config("[default]\nmax_attempts = 7\n");
  EXPECT_EQ(resolve_max_attempts(environment_, profile()).value_or(-1), 7);

  environment_.variables["AWS_MAX_ATTEMPTS"] = "2";
  EXPECT_EQ(resolve_max_attempts(environment_, profile()).value_or(-1), 2);
}

TEST_F(SettingsTest, InvalidMaxAttemptsIsRejected) {
  for (const char* value : {"0", "-1", "three", "2.5", "5x"}) {
    environment_.variables["AWS_MAX_ATTEMPTS"] = value;

    auto attempts = resolve_max_attempts(environment_, profile());

    ASSERT_FALSE(attempts.ok()) << value;
    EXPECT_EQ(attempts.error().code, "config.invalid_value") << value;
    EXPECT_NE(attempts.error().message.find(std::string("\"") + value + "\" for AWS_MAX_ATTEMPTS"), std::string::npos);
  }
}

TEST_F(SettingsTest, RetryModeOrder) {
  EXPECT_EQ(resolve_retry_mode(environment_, profile()).value_or("?"), "standard");

  write_config("[default]\nretry_mode = adaptive\n");
  EXPECT_EQ(resolve_retry_mode(environment_, profile()).value_or("?"), "adaptive");

  environment_.variables["AWS_RETRY_MODE"] = "Legacy";
  EXPECT_EQ(resolve_retry_mode(environment_, profile()).value_or("?"), "legacy");

  environment_.variables["AWS_RETRY_MODE"] = "sometimes";
  EXPECT_FALSE(resolve_retry_mode(environment_, profile()).ok());
}

TEST_F(SettingsTest, BuildsClientConfig) {
  set_keys();
  write_config("[profile dev]\nregion = eu-north-1\nmax_attempts = 5\n");
  environment_.variables["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:5000";

  auto settings = resolve_settings(environment_, SettingsOverrides{"dev", "", ""}, nullptr);

  ASSERT_TRUE(settings.ok()) << settings.error().describe();
  const ClientConfig& config = settings->client;
  EXPECT_EQ(settings->profile_name, "dev");
  EXPECT_EQ(settings->retry_mode, "standard");
  EXPECT_EQ(config.region, "eu-north-1");
  EXPECT_EQ(config.max_attempts, 5);
  EXPECT_EQ(config.credentials.access_key_id, "AKIATEST");
  EXPECT_EQ(config.endpoint_for(ec2_service()), "http://127.0.0.1:5000");
  EXPECT_EQ(config.endpoint_for(rds_service()), "https://rds.eu-north-1.amazonaws.com");
  EXPECT_EQ(config.endpoint_for(cost_explorer_service()), "https://ce.us-east-1.amazonaws.com");
}

TEST_F(SettingsTest, EndpointFlagSendsEveryServiceThere) {
  set_keys();

  auto config = build_client_config(environment_, SettingsOverrides{"", "us-east-1", "http://127.0.0.1:6000"}, nullptr);

  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->endpoint_for(ec2_service()), "http://127.0.0.1:6000");
  EXPECT_EQ(config->endpoint_for(tagging_service()), "http://127.0.0.1:6000");
}

TEST_F(SettingsTest, BuildFailsOnMalformedServiceEndpoint) {
  set_keys();
  environment_.variables["AWS_REGION"] = "us-east-1";
  environment_.variables["AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API"] = "ftp://127.0.0.1";

  auto config = build_client_config(environment_, {}, nullptr);

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API"), std::string::npos);
}

TEST_F(SettingsTest, BuildFailsWithoutCredentials) {
  environment_.variables["AWS_REGION"] = "us-east-1";

  auto config = build_client_config(environment_, {}, nullptr);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, "credentials.not_found");
}

TEST_F(SettingsTest, BuildFailsWithoutRegion) {
  set_keys();

  auto config = build_client_config(environment_, {}, nullptr);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, "config.missing_region");
}

}  // namespace
}  // namespace hivemind::aws
