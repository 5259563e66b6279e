// Renewal of instance role credentials before they expire, against a
// loopback IMDSv2 server, and through resolve_settings() against moto_server
// behind a proxy that rejects the old key.

#include "aws/credentials_refresh.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <thread>
#include <vector>

#include "aws/curl_transport.h"
#include "aws/ec2.h"
#include "aws/settings.h"
#include "support/fault_proxy.h"
#include "support/imds_server.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::aws {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;
using hivemind::testing::ImdsServer;

// A fixed instant, whole seconds, so that ISO-8601 round trips are exact.
const Clock::time_point kStart = Clock::from_time_t(1796400000);  // 2026-12-04T16:00:00Z

std::string iso8601(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

class CredentialsRefreshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    environment_.variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds_.endpoint();
    environment_.variables["AWS_METADATA_SERVICE_TIMEOUT"] = "5";
  }

  void serve_key(const std::string& access_key_id, Clock::time_point expiration) {
    imds_.serve_role("deploy-role", access_key_id, access_key_id + "-secret", access_key_id + "-token",
                     iso8601(expiration));
  }

  // The provider, started from what IMDS serves now, on the test's clock.
  CredentialsProvider start_provider() {
    auto initial = fetch_imds_credentials(environment_, *transport_);
    EXPECT_TRUE(initial.ok()) << initial.error().describe();
    RefreshOptions options;
    options.now = [this] { return now_.load(); };
    return make_imds_refreshing_provider(initial.ok() ? *initial : Credentials{}, environment_, transport_, options);
  }

  std::size_t imds_requests() const { return imds_.requests().size(); }

  ImdsServer imds_;
  std::shared_ptr<CurlTransport> transport_ = std::make_shared<CurlTransport>();
  Environment environment_;
  std::atomic<Clock::time_point> now_{kStart};
};

TEST_F(CredentialsRefreshTest, RenewsOnlyInsideTheMargin) {
  serve_key("ASIAFIRST", kStart + 1h);
  CredentialsProvider provider = start_provider();
  const std::size_t after_start = imds_requests();
  serve_key("ASIASECOND", kStart + 2h);

  now_ = kStart + 54min;
  auto early = provider();
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->access_key_id, "ASIAFIRST");
  EXPECT_EQ(imds_requests(), after_start);

  now_ = kStart + 56min;
  auto renewed = provider();
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->access_key_id, "ASIASECOND");
  EXPECT_EQ(renewed->session_token, "ASIASECOND-token");
  ASSERT_TRUE(renewed->expiration.has_value());
  EXPECT_EQ(*renewed->expiration, kStart + 2h);
  EXPECT_EQ(imds_requests(), after_start + 3);  // token, role name, role document

  auto cached = provider();
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->access_key_id, "ASIASECOND");
  EXPECT_EQ(imds_requests(), after_start + 3);
}

TEST_F(CredentialsRefreshTest, KeepsValidCredentialsWhileRenewalFails) {
  serve_key("ASIAFIRST", kStart + 1h);
  CredentialsProvider provider = start_provider();
  imds_.set_response("GET", "/latest/meta-data/iam/security-credentials/deploy-role", {500, "broken", ""});
  const std::size_t after_start = imds_requests();

  now_ = kStart + 58min;
  auto kept = provider();
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->access_key_id, "ASIAFIRST");
  EXPECT_EQ(imds_requests(), after_start + 3);

  // Within the retry interval the broken service is not asked again.
  now_ = kStart + 58min + 5s;
  ASSERT_TRUE(provider().ok());
  EXPECT_EQ(imds_requests(), after_start + 3);

  now_ = kStart + 58min + 11s;
  ASSERT_TRUE(provider().ok());
  EXPECT_EQ(imds_requests(), after_start + 6);
}

TEST_F(CredentialsRefreshTest, ExpiredAndNotRenewedIsAClearError) {
  serve_key("ASIAFIRST", kStart + 1h);
  CredentialsProvider provider = start_provider();
  imds_.set_response("GET", "/latest/meta-data/iam/security-credentials/deploy-role", {500, "broken", ""});

  now_ = kStart + 1h + 1s;
  auto expired = provider();
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().kind, ErrorKind::kCredentials);
  EXPECT_EQ(expired.error().code, "credentials.expired");
  EXPECT_NE(expired.error().message.find("EC2 instance metadata, role deploy-role"), std::string::npos)
      << expired.error().message;
  EXPECT_NE(expired.error().message.find("2026-12-04T17:00:00Z"), std::string::npos) << expired.error().message;
  EXPECT_NE(expired.error().message.find("HTTP 500"), std::string::npos) << expired.error().message;
  const Error shown = expired.error().to_error();
  EXPECT_NE(shown.remediation.find("hivemind retry"), std::string::npos) << shown.remediation;

  // Once the service serves new credentials, the same provider recovers.
  serve_key("ASIASECOND", kStart + 7h);
  auto renewed = provider();
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->access_key_id, "ASIASECOND");
}

TEST_F(CredentialsRefreshTest, SameExpirationIsNotARenewal) {
  serve_key("ASIAFIRST", kStart + 1h);
  CredentialsProvider provider = start_provider();
  serve_key("ASIAOTHER", kStart + 1h);

  now_ = kStart + 57min;
  auto kept = provider();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "ASIAFIRST");
}

TEST_F(CredentialsRefreshTest, ConcurrentCallersShareOneRenewal) {
  serve_key("ASIAFIRST", kStart + 1h);
  CredentialsProvider provider = start_provider();
  const std::size_t after_start = imds_requests();
  serve_key("ASIASECOND", kStart + 2h);
  now_ = kStart + 59min;

  std::atomic<int> renewed{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      auto credentials = provider();
      if (credentials.ok() && credentials->access_key_id == "ASIASECOND") renewed++;
    });
  }
  for (std::thread& caller : callers) caller.join();

  EXPECT_EQ(renewed.load(), 8);
  EXPECT_EQ(imds_requests(), after_start + 3);
}

TEST_F(CredentialsRefreshTest, LongTermKeysAreNeverRenewed) {
  int fetches = 0;
  CredentialsProvider provider = make_refreshing_provider(
      Credentials{"AKIALONGTERM", "secret", "", "environment", std::nullopt}, [&]() -> Result<Credentials> {
        ++fetches;
        return Credentials{};
      });
  auto credentials = provider();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "AKIALONGTERM");
  EXPECT_EQ(fetches, 0);
}

// The settings that the CLI resolves renew instance role credentials: the
// key IMDS served first is rejected by the proxy as expired, and calls still
// succeed because the client signs them with the renewed key.
TEST_F(CredentialsRefreshTest, ResolvedSettingsSignWithRenewedKey) {
  testing::MotoServer& moto = testing::shared_moto();
  ASSERT_TRUE(moto.reset());
  testing::FaultProxy proxy(moto.endpoint(), testing::FaultOptions{});
  ASSERT_TRUE(proxy.listening());
  proxy.expire_access_key("ASIAFIRST", 0);
  testing::TempDir home;

  // Inside the five-minute margin already, so the first call renews.
  serve_key("ASIAFIRST", Clock::now() + 4min);
  environment_.home = home.path();
  environment_.variables["AWS_REGION"] = "us-east-1";
  environment_.variables["AWS_ENDPOINT_URL"] = proxy.endpoint();
  environment_.variables["AWS_MAX_ATTEMPTS"] = "1";
  auto settings = resolve_settings(environment_, SettingsOverrides{}, transport_);
  ASSERT_TRUE(settings.ok()) << settings.error().describe();
  EXPECT_EQ(settings->client.credentials.access_key_id, "ASIAFIRST");
  ASSERT_TRUE(static_cast<bool>(settings->client.credentials_provider));
  serve_key("ASIASECOND", Clock::now() + 6h);

  AwsClient client(settings->client, transport_);
  auto vpcs = ec2::describe_vpcs(client, {});
  ASSERT_TRUE(vpcs.ok()) << vpcs.error().to_error().describe();
  EXPECT_EQ(proxy.expired_count(), 0);

  // The same settings with the old key alone, as before the renewal existed.
  ClientConfig fixed = settings->client;
  fixed.credentials_provider = nullptr;
  AwsClient stale(fixed, transport_);
  auto rejected = ec2::describe_vpcs(stale, {});
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, "ExpiredToken");
}

}  // namespace
}  // namespace hivemind::aws
