// Provision and teardown through FaultProxy, in front of moto_server:
// transient faults, expired credentials, racing and parallel runs, and a
// state folder that cannot be used while resources exist.
//
// Faults are drawn from a seeded generator. Set HIVEMIND_FAULT_SEED to replay
// a failing run; every failure message names the seed it ran with.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <barrier>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "infra/discovery.h"
#include "infra/provisioner.h"
#include "state/lock.h"
#include "state/store.h"
#include "support/fault_proxy.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::infra {
namespace {

using hivemind::testing::FaultKind;
using hivemind::testing::FaultOptions;
using hivemind::testing::FaultProxy;
using hivemind::testing::TempDir;
using namespace std::chrono_literals;

// At a 20% fault rate a call fails all of its sends with probability
// 0.2^attempts. One provision and teardown of the web-with-database plan make
// about 160 calls (deploy_bench counted 107 and 56), so 20 of them make about
// 3,200. With 10 attempts the expected number of calls that run out is about
// 3,200 * 1e-7, well below one in a thousand runs. With the SDKs' default of
// 3 attempts, about 26 calls per run would fail.
constexpr int kMaxAttempts = 10;
constexpr double kFaultRate = 0.2;
constexpr int kDeployments = 20;

// Faults that AWS sends before doing any work, so the retried call is the only
// one that reaches it.
const std::vector<FaultKind> kFaultsBeforeWork = {FaultKind::kDelay, FaultKind::kThrottle, FaultKind::kServerError,
                                                  FaultKind::kUnavailable, FaultKind::kResetBefore};

unsigned base_seed() {
  const char* text = std::getenv("HIVEMIND_FAULT_SEED");
  return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 20261204u;
}

std::string replay_hint(unsigned seed) {
  return "fault seed " + std::to_string(seed) + " (replay with HIVEMIND_FAULT_SEED=" + std::to_string(seed) + ")";
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

std::string first_failure(const std::vector<ResourceFailure>& failures) {
  return failures.empty() ? "" : failures.front().resource + ": " + failures.front().error.describe();
}

class DeployFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto().reset());
    direct_ = moto().make_client();
  }

  testing::MotoServer& moto() { return testing::shared_moto(); }

  std::unique_ptr<FaultProxy> start_proxy(unsigned seed, double rate, double latency_scale = 0.0) {
    FaultOptions options;
    options.seed = seed;
    options.rate = rate;
    options.delay = 50ms;
    options.latency.scale = latency_scale;
    auto proxy = std::make_unique<FaultProxy>(moto().endpoint(), options);
    EXPECT_TRUE(proxy->listening());
    return proxy;
  }

  aws::ClientConfig proxied_config(const FaultProxy& proxy) {
    aws::ClientConfig config = moto().client_config();
    const std::string url = proxy.endpoint();
    config.endpoint_for = [url](const aws::ServiceSpec&) { return url; };
    config.max_attempts = kMaxAttempts;
    config.random_seed = proxy.seed();
    return config;
  }

  std::unique_ptr<state::Store> open_store(const std::filesystem::path& dir) {
    state::StoreOptions options;
    options.state_dir = dir;
    auto store = state::Store::open(options);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().describe());
    return store.ok() ? std::move(*store) : nullptr;
  }

  void create_deployment_row(state::Store& store, const std::string& id) {
    state::Deployment deployment;
    deployment.id = id;
    deployment.app_name = "shop";
    deployment.region = "us-east-1";
    deployment.created_at = std::chrono::system_clock::now();
    ASSERT_TRUE(store.create_deployment(deployment).ok());
  }

  // A context that polls often and sleeps for real, since the proxy's
  // latency profile runs on the real clock.
  std::unique_ptr<InfraContext> make_context(aws::AwsClient& client, state::Store& store,
                                             const std::filesystem::path& state_dir, const PlanInputs& inputs) {
    Result<Plan> plan = build_plan(inputs);
    EXPECT_TRUE(plan.ok());
    auto context = std::make_unique<InfraContext>(client, store, inputs, *plan, state_dir / inputs.deployment_id);
    context->wait.first_delay = 5ms;
    context->wait.max_delay = 50ms;
    context->skip_final_snapshot = true;
    return context;
  }

  // Counts the resources in moto tagged with the deployment, by logical
  // name, asking moto directly rather than through the proxy.
  std::map<std::string, int> tagged_in_aws(const std::string& deployment_id) {
    auto found = discover(*direct_, deployment_id);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().to_error().describe());
    std::map<std::string, int> counts;
    if (!found.ok()) return counts;
    for (const DiscoveredResource& resource : *found) counts[resource.logical_name]++;
    return counts;
  }

  void expect_each_once(const InfraContext& context) {
    std::map<std::string, int> counts = tagged_in_aws(context.inputs().deployment_id);
    for (const ResourceSpec& spec : context.plan().resources) EXPECT_EQ(counts[spec.name], 1) << spec.name;
    for (const auto& [name, count] : counts) EXPECT_LE(count, 1) << name << " was created " << count << " times";
  }

  // Provisions and tears down kDeployments deployments of the
  // web-with-database plan, each through its own proxy seeded from the base
  // seed, and checks that each logical resource exists once and then not at all.
  void deploy_many_through_faults(const std::vector<FaultKind>& kinds) {
    TempDir state_dir;
    auto store = open_store(state_dir.path());
    ASSERT_NE(store, nullptr);

    for (int i = 0; i < kDeployments; ++i) {
      const unsigned seed = base_seed() + static_cast<unsigned>(i);
      SCOPED_TRACE(replay_hint(seed));
      const std::string id = "hm-shop-fault" + std::to_string(i);
      FaultOptions options;
      options.seed = seed;
      options.rate = kFaultRate;
      options.kinds = kinds;
      options.delay = 50ms;
      options.latency.scale = 0.001;
      FaultProxy proxy(moto().endpoint(), options);
      ASSERT_TRUE(proxy.listening());
      auto client = moto().make_client(proxied_config(proxy));
      create_deployment_row(*store, id);
      auto context = make_context(*client, *store, state_dir.path(), web_with_database(id));

      Result<ProvisionResult> provisioned = provision(*context);
      ASSERT_TRUE(provisioned.ok()) << provisioned.error().describe();
      EXPECT_TRUE(provisioned->ok()) << first_failure(provisioned->failures);
      expect_each_once(*context);

      Result<TeardownResult> removed = teardown_recorded(*context);
      ASSERT_TRUE(removed.ok()) << removed.error().describe();
      EXPECT_TRUE(removed->ok()) << first_failure(removed->failures);
      EXPECT_TRUE(tagged_in_aws(id).empty());
      EXPECT_FALSE(proxy.fault_counts().empty());
      if (HasFailure()) return;
    }
  }

  std::unique_ptr<aws::AwsClient> direct_;
};

TEST_F(DeployFaultsTest, ThrottlingUsesEachProtocolsErrorShape) {
  FaultOptions only_throttling;
  only_throttling.seed = base_seed();
  only_throttling.rate = 1.0;
  only_throttling.kinds = {FaultKind::kThrottle};
  auto proxy = std::make_unique<FaultProxy>(moto().endpoint(), only_throttling);
  aws::ClientConfig config = proxied_config(*proxy);
  config.max_attempts = 1;
  auto client = moto().make_client(config);

  auto vpcs = aws::ec2::describe_vpcs(*client, {});
  ASSERT_FALSE(vpcs.ok());
  EXPECT_EQ(vpcs.error().code, "RequestLimitExceeded");
  EXPECT_EQ(vpcs.error().http_status, 503);

  auto balancers = aws::elbv2::describe_load_balancers(*client, {});
  ASSERT_FALSE(balancers.ok());
  EXPECT_EQ(balancers.error().code, "Throttling");

  auto groups = aws::logs::describe_log_groups(*client, "/hivemind");
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.error().code, "ThrottlingException");
  EXPECT_EQ(proxy->forwarded_count(), 0);
}

TEST_F(DeployFaultsTest, TwentyDeploymentsSurviveFaultsBeforeWork) { deploy_many_through_faults(kFaultsBeforeWork); }

// Every fault, including a response lost after moto did the work: the retried
// create then meets the resource that the first send made, and the
// provisioner must adopt it or delete the extra copy.
TEST_F(DeployFaultsTest, TwentyDeploymentsSurviveEveryFault) {
  deploy_many_through_faults({FaultKind::kDelay, FaultKind::kThrottle, FaultKind::kServerError, FaultKind::kUnavailable,
                              FaultKind::kResetBefore, FaultKind::kTruncate, FaultKind::kResetAfter});
}

TEST_F(DeployFaultsTest, LatencyProfileMakesWaitersWait) {
  TempDir state_dir;
  auto store = open_store(state_dir.path());
  ASSERT_NE(store, nullptr);
  auto proxy = start_proxy(base_seed(), 0.0, 0.005);
  auto client = moto().make_client(proxied_config(*proxy));
  create_deployment_row(*store, "hm-shop-slow00");
  auto context = make_context(*client, *store, state_dir.path(), web_with_database("hm-shop-slow00"));
  std::mutex waited_mutex;
  std::map<std::string, int> waited;
  context->on_event = [&](const ResourceEvent& event) {
    std::lock_guard lock(waited_mutex);
    if (event.kind == ResourceEvent::Kind::kWaiting) waited[event.resource]++;
  };

  auto provisioned = provision(*context);
  ASSERT_TRUE(provisioned.ok()) << provisioned.error().describe();
  ASSERT_TRUE(provisioned->ok()) << first_failure(provisioned->failures);
  EXPECT_GT(waited["instance"], 0);
  EXPECT_GT(waited["load_balancer"], 0);
  EXPECT_GT(waited["database"], 0);

  waited.clear();
  auto removed = teardown_recorded(*context);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_TRUE(removed->ok()) << first_failure(removed->failures);
  EXPECT_GT(waited["instance"], 0);
  EXPECT_GT(waited["database"], 0);
  EXPECT_TRUE(tagged_in_aws("hm-shop-slow00").empty());
}

TEST_F(DeployFaultsTest, ExpiredCredentialsStopThenRenewedOnesResume) {
  TempDir state_dir;
  auto store = open_store(state_dir.path());
  ASSERT_NE(store, nullptr);
  auto proxy = start_proxy(base_seed(), 0.0);
  proxy->expire_access_key("AKIDEXPIRING", 15);

  std::mutex credentials_mutex;
  aws::Credentials current{"AKIDEXPIRING", "expiring-secret", "session-token", "test", std::nullopt};
  aws::ClientConfig config = proxied_config(*proxy);
  config.credentials_provider = [&]() -> aws::AwsResult<aws::Credentials> {
    std::lock_guard lock(credentials_mutex);
    return current;
  };
  auto client = moto().make_client(config);
  create_deployment_row(*store, "hm-shop-expire");
  auto context = make_context(*client, *store, state_dir.path(), web_with_database("hm-shop-expire"));

  Result<ProvisionResult> stopped = provision(*context);
  ASSERT_TRUE(stopped.ok()) << stopped.error().describe();
  ASSERT_FALSE(stopped->ok());
  ASSERT_FALSE(stopped->failures.empty());
  const std::string message = stopped->failures.front().error.describe();
  EXPECT_NE(message.find("ExpiredToken"), std::string::npos) << message;
  EXPECT_GT(proxy->expired_count(), 0);

  {
    std::lock_guard lock(credentials_mutex);
    current = aws::Credentials{"AKIDRENEWED", "renewed-secret", "session-token-2", "test", std::nullopt};
  }
  auto renewed_context = make_context(*client, *store, state_dir.path(), web_with_database("hm-shop-expire"));
  Result<ProvisionResult> resumed = provision(*renewed_context);
  ASSERT_TRUE(resumed.ok()) << resumed.error().describe();
  EXPECT_TRUE(resumed->ok()) << first_failure(resumed->failures);
  expect_each_once(*renewed_context);
}

TEST_F(DeployFaultsTest, RacingProvisionsOfOneDeploymentHoldTheLock) {
  TempDir state_dir;
  {
    auto store = open_store(state_dir.path());
    ASSERT_NE(store, nullptr);
    create_deployment_row(*store, "hm-shop-racing");
  }
  auto proxy = start_proxy(base_seed(), 0.0, 0.005);
  auto client = moto().make_client(proxied_config(*proxy));

  std::barrier start(2);
  std::mutex outcomes_mutex;
  std::vector<std::string> lock_errors;
  std::vector<bool> provisioned;
  auto run = [&] {
    start.arrive_and_wait();
    auto lock = state::DeploymentLock::acquire(state_dir.path(), "hm-shop-racing", {"faults test"});
    if (!lock.ok()) {
      std::lock_guard guard(outcomes_mutex);
      lock_errors.push_back(lock.error().code + ": " + lock.error().describe());
      return;
    }
    auto store = open_store(state_dir.path());
    if (store == nullptr) return;
    auto context = make_context(*client, *store, state_dir.path(), web_with_database("hm-shop-racing"));
    auto result = provision(*context);
    std::lock_guard guard(outcomes_mutex);
    provisioned.push_back(result.ok() && result->ok());
  };
  std::thread first(run);
  std::thread second(run);
  first.join();
  second.join();

  ASSERT_EQ(lock_errors.size(), 1u);
  EXPECT_EQ(lock_errors.front().rfind("state.locked", 0), 0u) << lock_errors.front();
  ASSERT_EQ(provisioned.size(), 1u);
  EXPECT_TRUE(provisioned.front());
  auto store = open_store(state_dir.path());
  ASSERT_NE(store, nullptr);
  auto context = make_context(*client, *store, state_dir.path(), web_with_database("hm-shop-racing"));
  expect_each_once(*context);
}

TEST_F(DeployFaultsTest, TwoDeploymentsInParallelShareOneStateFolder) {
  const unsigned seed = base_seed();
  SCOPED_TRACE(replay_hint(seed));
  TempDir state_dir;
  FaultOptions options;
  options.seed = seed;
  options.rate = kFaultRate;
  options.kinds = kFaultsBeforeWork;
  options.delay = 50ms;
  options.latency.scale = 0.002;
  auto proxy = std::make_unique<FaultProxy>(moto().endpoint(), options);
  ASSERT_TRUE(proxy->listening());
  auto client = moto().make_client(proxied_config(*proxy));
  const std::vector<std::string> ids = {"hm-shop-left00", "hm-shop-right0"};
  {
    auto store = open_store(state_dir.path());
    ASSERT_NE(store, nullptr);
    for (const std::string& id : ids) create_deployment_row(*store, id);
  }

  std::mutex outcomes_mutex;
  std::map<std::string, std::string> outcomes;
  std::vector<std::thread> threads;
  for (const std::string& id : ids) {
    threads.emplace_back([&, id] {
      auto store = open_store(state_dir.path());
      std::string outcome = "store did not open";
      if (store != nullptr) {
        auto context = make_context(*client, *store, state_dir.path(), web_with_database(id));
        auto result = provision(*context);
        outcome = !result.ok() ? result.error().describe() : result->ok() ? "" : first_failure(result->failures);
      }
      std::lock_guard guard(outcomes_mutex);
      outcomes[id] = outcome;
    });
  }
  for (std::thread& thread : threads) thread.join();

  auto store = open_store(state_dir.path());
  ASSERT_NE(store, nullptr);
  for (const std::string& id : ids) {
    EXPECT_EQ(outcomes[id], "") << id;
    expect_each_once(*make_context(*client, *store, state_dir.path(), web_with_database(id)));
  }
}

// A read-only bind mount of `source` at `target`, removed at scope end.
// Mounting needs root or CAP_SYS_ADMIN.
class ReadOnlyView {
 public:
  ReadOnlyView(const std::filesystem::path& source, const std::filesystem::path& target) : target_(target) {
    std::filesystem::create_directories(target);
    mounted_ = ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0;
    read_only_ = mounted_ && ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
  }
  ~ReadOnlyView() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  bool ok() const { return read_only_; }

 private:
  std::filesystem::path target_;
  bool mounted_ = false;
  bool read_only_ = false;
};

TEST_F(DeployFaultsTest, UnusableStateStillLetsDiscoveryFindResources) {
  TempDir state_dir;
  auto proxy = start_proxy(base_seed(), 0.0);
  auto client = moto().make_client(proxied_config(*proxy));
  const std::string id = "hm-shop-lostst";
  std::size_t planned = 0;
  {
    auto store = open_store(state_dir.path() / "state");
    ASSERT_NE(store, nullptr);
    create_deployment_row(*store, id);
    auto context = make_context(*client, *store, state_dir.path() / "state", web_with_database(id));
    auto result = provision(*context);
    ASSERT_TRUE(result.ok()) << result.error().describe();
    ASSERT_TRUE(result->ok()) << first_failure(result->failures);
    planned = context->plan().resources.size();
  }

  // NOTE: without root the read-only half is skipped and only the damaged
  // database file is checked.
  ReadOnlyView view(state_dir.path() / "state", state_dir.path() / "read_only");
  if (view.ok()) {
    state::StoreOptions options;
    options.state_dir = state_dir.path() / "read_only";
    auto store = state::Store::open(options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, "state.read_only");
    EXPECT_FALSE(store.error().remediation.empty()) << store.error().message;
  }

  {
    std::fstream file(state_dir.path() / "state" / "state.db", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open());
    file.seekp(0);
    file << std::string(4096, '\x5a');
  }
  state::StoreOptions options;
  options.state_dir = state_dir.path() / "state";
  auto corrupted = state::Store::open(options);
  ASSERT_FALSE(corrupted.ok());
  EXPECT_EQ(corrupted.error().code, "state.corrupt") << corrupted.error().describe();
  EXPECT_FALSE(corrupted.error().remediation.empty()) << corrupted.error().message;

  auto found = discover(*client, id);
  ASSERT_TRUE(found.ok()) << found.error().to_error().describe();
  std::map<std::string, int> counts;
  for (const DiscoveredResource& resource : *found) counts[resource.logical_name]++;
  EXPECT_EQ(counts.size(), planned);
  for (const auto& [name, count] : counts) EXPECT_EQ(count, 1) << name;
}

}  // namespace
}  // namespace hivemind::infra
