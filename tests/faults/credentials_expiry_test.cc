// Instance role credentials that expire in the middle of a provision while
// the metadata service cannot renew them, then are renewed: the provision
// stops with a clear error, and a second provision with the same client
// resumes and creates each resource once.
//
// The provider's clock is driven by the proxy's request count (one minute per
// request), so the expiry lands mid-provision on any machine, at a point that
// depends only on the order of the calls.

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <map>

#include "aws/credentials_refresh.h"
#include "aws/curl_transport.h"
#include "infra/discovery.h"
#include "infra/provisioner.h"
#include "state/store.h"
#include "support/fault_proxy.h"
#include "support/imds_server.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::infra {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::from_time_t(1796400000);  // 2026-12-04T16:00:00Z
constexpr const char* kRoleDocument = "/latest/meta-data/iam/security-credentials/deploy-role";

std::string iso8601(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

PlanInputs web_with_database(const std::string& deployment_id) {
  PlanInputs inputs;
  inputs.deployment_id = deployment_id;
  inputs.app_name = "shop";
  inputs.region = "us-east-1";
  inputs.web_service = true;
  inputs.app_port = 3000;
  inputs.database = "postgres";
  inputs.runtime = "node";
  inputs.ssh_cidr = "203.0.113.7/32";
  return inputs;
}

TEST(CredentialsExpiry, ProvisionStopsThenResumesAfterRenewal) {
  testing::MotoServer& moto = testing::shared_moto();
  ASSERT_TRUE(moto.reset());
  testing::FaultProxy proxy(moto.endpoint(), testing::FaultOptions{});
  ASSERT_TRUE(proxy.listening());

  // IMDS serves credentials that expire 20 minutes (20 requests) in, and
  // then fails every renewal.
  testing::ImdsServer imds;
  imds.serve_role("deploy-role", "ASIAFIRST", "first-secret", "first-token", iso8601(kStart + 20min));
  aws::Environment environment;
  environment.variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.endpoint();
  auto transport = std::make_shared<aws::CurlTransport>();
  auto initial = aws::fetch_imds_credentials(environment, *transport);
  ASSERT_TRUE(initial.ok()) << initial.error().describe();
  imds.set_response("GET", kRoleDocument, {503, "unavailable", ""});

  aws::RefreshOptions refresh;
  refresh.now = [&proxy] { return kStart + std::chrono::minutes(proxy.request_count()); };
  aws::ClientConfig config = moto.client_config();
  const std::string url = proxy.endpoint();
  config.endpoint_for = [url](const aws::ServiceSpec&) { return url; };
  config.credentials_provider = aws::make_imds_refreshing_provider(*initial, environment, transport, refresh);
  auto client = moto.make_client(config);

  testing::TempDir state_dir;
  state::StoreOptions store_options;
  store_options.state_dir = state_dir.path();
  auto store = state::Store::open(store_options);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  const std::string id = "hm-shop-expiry";
  state::Deployment deployment;
  deployment.id = id;
  deployment.app_name = "shop";
  deployment.region = "us-east-1";
  deployment.created_at = Clock::now();
  ASSERT_TRUE((*store)->create_deployment(deployment).ok());

  auto provision_once = [&]() {
    Result<Plan> plan = build_plan(web_with_database(id));
    EXPECT_TRUE(plan.ok());
    InfraContext context(*client, **store, web_with_database(id), *plan, state_dir.path() / id);
    context.wait.first_delay = 5ms;
    context.wait.max_delay = 20ms;
    return std::make_pair(provision(context), plan->resources.size());
  };

  auto [stopped, planned] = provision_once();
  ASSERT_TRUE(stopped.ok()) << stopped.error().describe();
  ASSERT_FALSE(stopped->ok()) << "the provision finished before the credentials expired";
  ASSERT_FALSE(stopped->failures.empty());
  const std::string message = stopped->failures.front().error.describe();
  EXPECT_NE(message.find("credentials.expired"), std::string::npos) << message;
  EXPECT_NE(message.find("could not be renewed"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 503"), std::string::npos) << message;
  EXPECT_NE(message.find("hivemind retry"), std::string::npos) << message;

  imds.serve_role("deploy-role", "ASIASECOND", "second-secret", "second-token", iso8601(kStart + 100h));
  auto [resumed, unused] = provision_once();
  ASSERT_TRUE(resumed.ok()) << resumed.error().describe();
  EXPECT_TRUE(resumed->ok()) << (resumed->failures.empty() ? "" : resumed->failures.front().error.describe());

  auto found = discover(*moto.make_client(), id);
  ASSERT_TRUE(found.ok()) << found.error().to_error().describe();
  std::map<std::string, int> counts;
  for (const DiscoveredResource& resource : *found) counts[resource.logical_name]++;
  EXPECT_EQ(counts.size(), planned);
  for (const auto& [name, count] : counts) EXPECT_EQ(count, 1) << name << " was created " << count << " times";
}

}  // namespace
}  // namespace hivemind::infra
