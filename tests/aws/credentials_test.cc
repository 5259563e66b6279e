#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "aws/curl_transport.h"
#include "support/imds_server.h"
#include "support/temp_dir.h"

namespace hivemind::aws {
namespace {

using hivemind::testing::ImdsServer;
using hivemind::testing::TempDir;

// A home folder of its own and an environment that starts empty: IMDS is
// disabled unless a test turns it on against its loopback server.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    environment_.home = home_.path();
    environment_.variables["AWS_EC2_METADATA_DISABLED"] = "true";
  }

  void write_file(const std::string& relative, const std::string& text) {
    std::filesystem::path path = home_.path() / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  Result<Credentials> resolve(const std::string& explicit_profile = "", HttpTransport* transport = nullptr) {
    auto profile = load_profile(environment_, explicit_profile);
    if (!profile.ok()) return fail(profile.error());
    return resolve_credentials(environment_, *profile, transport);
  }

  TempDir home_;
  Environment environment_;
};

TEST_F(CredentialsTest, EnvironmentKeysComeFirst) {
  environment_.variables["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  environment_.variables["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n");

  auto credentials = resolve();

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIAENV");
  EXPECT_EQ(credentials->secret_access_key, "env-secret");
  EXPECT_EQ(credentials->session_token, "");
  EXPECT_EQ(credentials->source, "environment");
}

TEST_F(CredentialsTest, EnvironmentSessionToken) {
  environment_.variables["AWS_ACCESS_KEY_ID"] = "ASIAENV";
  environment_.variables["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  environment_.variables["AWS_SESSION_TOKEN"] = "env-token";

  auto credentials = resolve();

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->session_token, "env-token");
}

TEST_F(CredentialsTest, EnvironmentKeyWithoutSecretFails) {
  environment_.variables["AWS_ACCESS_KEY_ID"] = "AKIAENV";

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.partial");
  EXPECT_EQ(credentials.error().message, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not.");
}

TEST_F(CredentialsTest, EmptyEnvironmentVariableCountsAsUnset) {
  environment_.variables["AWS_ACCESS_KEY_ID"] = "";
  environment_.variables["AWS_SECRET_ACCESS_KEY"] = "";
  write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n");

  auto credentials = resolve();

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIAFILE");
}

TEST_F(CredentialsTest, DefaultProfileFromCredentialsFile) {
  write_file(".aws/credentials",
             "# comment\n[default]\r\naws_access_key_id=AKIAFILE\r\n  ; another comment\naws_secret_access_key = "
             "file-secret \naws_session_token = file-token\n");

  auto credentials = resolve();

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIAFILE");
  EXPECT_EQ(credentials->secret_access_key, "file-secret");
  EXPECT_EQ(credentials->session_token, "file-token");
  EXPECT_EQ(credentials->source, "profile \"default\" in " + (home_.path() / ".aws/credentials").string());
}

TEST_F(CredentialsTest, NamedProfileFromConfigFile) {
  write_file(
      ".aws/config",
      "[default]\nregion = us-east-1\n[profile dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev\n");

  auto credentials = resolve("dev");

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIADEV");
  EXPECT_EQ(credentials->source, "profile \"dev\" in " + (home_.path() / ".aws/config").string());
}

TEST_F(CredentialsTest, ConfigSectionWithoutProfilePrefixIsIgnored) {
  // In the config file a named profile's section is "[profile dev]"; "[dev]"
  // belongs to the credentials file's format only.
  write_file(".aws/config", "[dev]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n");

  auto credentials = resolve("dev");

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "config.profile_not_found");
}

TEST_F(CredentialsTest, CredentialsFileBeatsConfigFile) {
  write_file(".aws/credentials", "[dev]\naws_access_key_id = AKIACREDS\naws_secret_access_key = creds\n");
  write_file(".aws/config", "[profile dev]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = config\n");

  auto credentials = resolve("dev");

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIACREDS");
}

TEST_F(CredentialsTest, ProfileFlagBeatsAwsProfile) {
  environment_.variables["AWS_PROFILE"] = "from-env";
  write_file(".aws/credentials",
             "[from-env]\naws_access_key_id = AKIAENVPROFILE\naws_secret_access_key = a\n"
             "[from-flag]\naws_access_key_id = AKIAFLAG\naws_secret_access_key = b\n");

  auto from_flag = resolve("from-flag");
  auto from_env = resolve();

  ASSERT_TRUE(from_flag.ok()) << from_flag.error().describe();
  ASSERT_TRUE(from_env.ok()) << from_env.error().describe();
  EXPECT_EQ(from_flag->access_key_id, "AKIAFLAG");
  EXPECT_EQ(from_env->access_key_id, "AKIAENVPROFILE");
}

TEST_F(CredentialsTest, FileLocationsComeFromEnvironment) {
  write_file("elsewhere/creds", "[default]\naws_access_key_id = AKIAMOVED\naws_secret_access_key = moved\n");
  write_file("elsewhere/conf", "[profile other]\nregion = eu-west-1\n");
  environment_.variables["AWS_SHARED_CREDENTIALS_FILE"] = "~/elsewhere/creds";
  environment_.variables["AWS_CONFIG_FILE"] = (home_.path() / "elsewhere/conf").string();

  auto profile = load_profile(environment_, "other");
  auto credentials = resolve();

  ASSERT_TRUE(profile.ok()) << profile.error().describe();
  EXPECT_EQ(profile->config_value("region").value_or(""), "eu-west-1");
  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIAMOVED");
}

TEST_F(CredentialsTest, ProfileWithHalfAKeyFails) {
  write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAHALF\n");

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.partial");
  EXPECT_NE(credentials.error().message.find("no aws_secret_access_key"), std::string::npos);
}

TEST_F(CredentialsTest, AssumeRoleProfileIsReportedUnsupported) {
  write_file(".aws/config", "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = x\n");

  auto credentials = resolve("admin");

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.unsupported_source");
  EXPECT_NE(credentials.error().message.find("role_arn"), std::string::npos);
}

TEST_F(CredentialsTest, MalformedFileNamesLine) {
  write_file(".aws/credentials", "[default]\naws_access_key_id = AKIA\nthis line is not a setting\n");

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "config.malformed_file");
  EXPECT_EQ(credentials.error().message, "Malformed AWS profile file " + (home_.path() / ".aws/credentials").string() +
                                             " at line 3: expected key = value.");
}

TEST_F(CredentialsTest, UnclosedSectionHeaderFails) {
  write_file(".aws/config", "[profile dev\nregion = us-east-1\n");

  auto profile = load_profile(environment_, "");

  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().message.find("line 1: section header without ']'"), std::string::npos);
}

TEST_F(CredentialsTest, SettingBeforeSectionFails) {
  write_file(".aws/config", "region = us-east-1\n[default]\n");

  auto profile = load_profile(environment_, "");

  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().message.find("line 1: a setting before any [section] header"), std::string::npos);
}

TEST_F(CredentialsTest, IndentedSubSettingsAreNested) {
  auto file = parse_profile_file(
      "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:5000\nlogs=\n\t"
      "endpoint_url=http://127.0.0.1:5001\n",
      "config");

  ASSERT_TRUE(file.ok()) << file.error().describe();
  const ProfileSection& section = file->sections.at("services local");
  EXPECT_EQ(section.at("ec2.endpoint_url"), "http://127.0.0.1:5000");
  EXPECT_EQ(section.at("logs.endpoint_url"), "http://127.0.0.1:5001");
}

TEST_F(CredentialsTest, NothingFoundListsEveryPlace) {
  write_file(".aws/config", "[default]\nregion = us-east-1\n");
  std::string home = home_.path().string();

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.not_found");
  EXPECT_EQ(credentials.error().message,
            "No AWS credentials found. Looked at: "
            "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set; "
            "profile \"default\" in " +
                home + "/.aws/credentials: file not found; " + "profile \"default\" in " + home +
                "/.aws/config: no aws_access_key_id or aws_secret_access_key; "
                "EC2 instance metadata at http://169.254.169.254: skipped because AWS_EC2_METADATA_DISABLED=true.");
  EXPECT_NE(credentials.error().remediation.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST_F(CredentialsTest, NothingFoundNamesMissingSection) {
  write_file(".aws/credentials", "[other]\naws_access_key_id = A\naws_secret_access_key = B\n");

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("/.aws/credentials: no such profile in this file"), std::string::npos);
  EXPECT_NE(credentials.error().message.find("/.aws/config: file not found"), std::string::npos);
}

TEST_F(CredentialsTest, UnknownNamedProfileFails) {
  environment_.variables["AWS_PROFILE"] = "ghost";

  auto credentials = resolve();

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "config.profile_not_found");
  EXPECT_NE(credentials.error().message.find("\"ghost\""), std::string::npos);
}

// IMDS against a loopback server that speaks IMDSv2.
class ImdsCredentialsTest : public CredentialsTest {
 protected:
  void SetUp() override {
    CredentialsTest::SetUp();
    environment_.variables.erase("AWS_EC2_METADATA_DISABLED");
    environment_.variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server_.endpoint();
    environment_.variables["AWS_METADATA_SERVICE_TIMEOUT"] = "5";
  }

  ImdsServer server_;
  CurlTransport transport_;
};

TEST_F(ImdsCredentialsTest, FetchesRoleCredentialsWithToken) {
  server_.serve_role("web-role", "ASIAIMDS", "imds-secret", "imds-token", "2026-12-04T21:00:00Z");

  auto credentials = resolve("", &transport_);

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS");
  EXPECT_EQ(credentials->secret_access_key, "imds-secret");
  EXPECT_EQ(credentials->session_token, "imds-token");
  EXPECT_EQ(credentials->source, "EC2 instance metadata, role web-role");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*credentials->expiration), 1796418000);
}

TEST_F(ImdsCredentialsTest, SendsTokenRequestThenTokenOnEveryGet) {
  server_.serve_role("web-role", "ASIAIMDS", "imds-secret", "imds-token", "2026-12-04T21:00:00Z");

  auto credentials = resolve("", &transport_);
  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/latest/api/token");
  EXPECT_EQ(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].path, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), "test-imds-token");
  EXPECT_EQ(requests[2].path, "/latest/meta-data/iam/security-credentials/web-role");
  EXPECT_EQ(requests[2].header("X-aws-ec2-metadata-token"), "test-imds-token");
}

TEST_F(ImdsCredentialsTest, ProfileKeysComeBeforeImds) {
  server_.serve_role("web-role", "ASIAIMDS", "imds-secret", "imds-token", "2026-12-04T21:00:00Z");
  write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file\n");

  auto credentials = resolve("", &transport_);

  ASSERT_TRUE(credentials.ok()) << credentials.error().describe();
  EXPECT_EQ(credentials->access_key_id, "AKIAFILE");
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(ImdsCredentialsTest, DisabledImdsIsNeverContacted) {
  server_.serve_role("web-role", "ASIAIMDS", "imds-secret", "imds-token", "2026-12-04T21:00:00Z");
  environment_.variables["AWS_EC2_METADATA_DISABLED"] = "TRUE";

  auto credentials = resolve("", &transport_);

  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("EC2 instance metadata at " + server_.endpoint() +
                                             ": skipped because AWS_EC2_METADATA_DISABLED=true"),
            std::string::npos);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(ImdsCredentialsTest, NoRoleIsReportedInNothingFound) {
  server_.set_response("PUT", "/latest/api/token", {200, "test-imds-token", ""});

  auto credentials = resolve("", &transport_);

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.not_found");
  EXPECT_NE(credentials.error().message.find("GET " + server_.endpoint() +
                                             "/latest/meta-data/iam/security-credentials/ returned HTTP 404"),
            std::string::npos)
      << credentials.error().message;
}

TEST_F(ImdsCredentialsTest, TokenRefusedIsReported) {
  server_.set_response("PUT", "/latest/api/token", {403, "forbidden", ""});

  auto credentials = resolve("", &transport_);

  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("PUT " + server_.endpoint() + "/latest/api/token returned HTTP 403"),
            std::string::npos)
      << credentials.error().message;
}

TEST_F(ImdsCredentialsTest, FailedCodeInDocumentIsReported) {
  server_.serve_role("web-role", "ASIAIMDS", "imds-secret", "imds-token", "2026-12-04T21:00:00Z");
  server_.set_response("GET", "/latest/meta-data/iam/security-credentials/web-role",
                       {200, R"({"Code":"AssumeRoleUnauthorizedAccess"})", "test-imds-token"});

  auto credentials = resolve("", &transport_);

  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("Code: AssumeRoleUnauthorizedAccess"), std::string::npos)
      << credentials.error().message;
}

TEST_F(ImdsCredentialsTest, UnreachableEndpointIsReported) {
  // A port that was just free: nothing listens there.
  std::string closed_endpoint;
  {
    ImdsServer closed;
    closed_endpoint = closed.endpoint();
  }
  environment_.variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = closed_endpoint;

  auto credentials = resolve("", &transport_);

  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, "credentials.not_found");
  EXPECT_NE(credentials.error().message.find("EC2 instance metadata at " + closed_endpoint + ": PUT "),
            std::string::npos)
      << credentials.error().message;
}

}  // namespace
}  // namespace hivemind::aws
