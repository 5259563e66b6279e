#include "infra/provisioner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>

#include "aws/curl_transport.h"
#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/rds.h"
#include "aws/ssm.h"
#include "infra/discovery.h"
#include "state/store.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::infra {
namespace {

using hivemind::testing::MotoTest;
using hivemind::testing::TempDir;

PlanInputs inputs_for(const std::string& deployment_id, bool web, std::optional<std::string> database) {
  PlanInputs inputs;
  inputs.deployment_id = deployment_id;
  inputs.app_name = "shop";
  inputs.region = "us-east-1";
  inputs.web_service = web;
  inputs.app_port = web ? 3000 : 0;
  inputs.database = std::move(database);
  inputs.runtime = "node";
  inputs.ssh_cidr = "203.0.113.7/32";
  return inputs;
}

// Sends requests through another transport and kills the process (as a
// crash would, with no cleanup) just before the N-th one.
class CrashingTransport : public aws::HttpTransport {
 public:
  CrashingTransport(std::shared_ptr<aws::HttpTransport> inner, int crash_before)
      : inner_(std::move(inner)), crash_before_(crash_before) {}

  Result<aws::HttpResponse, aws::TransportError> send(const aws::HttpRequest& request,
                                                      const aws::TransportOptions& options) override {
    if (++sent_ == crash_before_) _exit(86);
    return inner_->send(request, options);
  }

  int sent() const { return sent_.load(); }

 private:
  std::shared_ptr<aws::HttpTransport> inner_;
  int crash_before_;
  std::atomic<int> sent_{0};
};

class ProvisionerTest : public MotoTest {
 protected:
  std::unique_ptr<state::Store> open_store() {
    state::StoreOptions options;
    options.state_dir = state_dir_.path();
    auto store = state::Store::open(options);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().describe());
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::unique_ptr<InfraContext> make_context(aws::AwsClient& client, state::Store& store, const PlanInputs& inputs) {
    Result<Plan> plan = build_plan(inputs);
    EXPECT_TRUE(plan.ok());
    auto context =
        std::make_unique<InfraContext>(client, store, inputs, *plan, state_dir_.path() / inputs.deployment_id);
    context->wait.sleep = [](std::chrono::milliseconds) {};
    context->wait.first_delay = std::chrono::milliseconds(1);
    context->skip_final_snapshot = true;
    return context;
  }

  void create_deployment_row(state::Store& store, const std::string& id) {
    state::Deployment deployment;
    deployment.id = id;
    deployment.app_name = "shop";
    deployment.region = "us-east-1";
    deployment.created_at = std::chrono::system_clock::now();
    ASSERT_TRUE(store.create_deployment(deployment).ok());
  }

  // Counts the resources in moto tagged with the deployment, by logical name.
  std::map<std::string, int> tagged_in_aws(const std::string& deployment_id) {
    auto found = discover(client(), deployment_id);
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().to_error().describe());
    std::map<std::string, int> counts;
    if (!found.ok()) return counts;
    for (const DiscoveredResource& resource : *found) counts[resource.logical_name]++;
    return counts;
  }

  TempDir state_dir_;
};

TEST_F(ProvisionerTest, CreatesWebAppWithDatabase) {
  auto store = open_store();
  create_deployment_row(*store, "hm-shop-aaaaaa");
  PlanInputs inputs = inputs_for("hm-shop-aaaaaa", true, "postgres");
  auto context = make_context(client(), *store, inputs);

  Result<ProvisionResult> result = provision(*context);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  ASSERT_TRUE(result->ok()) << (result->failures.empty() ? "" : result->failures.front().error.describe());

  std::map<std::string, int> counts = tagged_in_aws("hm-shop-aaaaaa");
  for (const ResourceSpec& spec : context->plan().resources) {
    EXPECT_EQ(counts[spec.name], 1) << spec.name;
  }

  auto recorded = store->find_resource("hm-shop-aaaaaa", "instance");
  ASSERT_TRUE(recorded.ok());
  ASSERT_TRUE(recorded->has_value());
  auto instances = aws::ec2::describe_instances(client(), {(*recorded)->physical_id});
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ(instances->front().state, "running");
  EXPECT_EQ(instances->front().http_tokens, "required");

  auto database = store->find_resource("hm-shop-aaaaaa", "database");
  ASSERT_TRUE(database.ok());
  ASSERT_TRUE(database->has_value());
  auto databases = aws::rds::describe_db_instances(client(), (*database)->physical_id);
  ASSERT_TRUE(databases.ok());
  EXPECT_FALSE(databases->front().publicly_accessible);
  EXPECT_TRUE(databases->front().storage_encrypted);

  // The master password lives in SSM only: not in state, not in its file.
  auto password = aws::ssm::get_parameter(client(), "/hivemind/hm-shop-aaaaaa/db-password", true);
  ASSERT_TRUE(password.ok());
  ASSERT_GE(password->value.size(), 20u);
  auto resources = store->resources("hm-shop-aaaaaa");
  ASSERT_TRUE(resources.ok());
  for (const state::Resource& resource : *resources) {
    EXPECT_EQ(resource.attributes_json.find(password->value.reveal()), std::string::npos) << resource.logical_name;
  }
  std::ifstream file(store->database_path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(password->value.reveal()), std::string::npos);
}

TEST_F(ProvisionerTest, AppGroupOpensPortToLoadBalancerOnly) {
  auto store = open_store();
  create_deployment_row(*store, "hm-shop-bbbbbb");
  auto context = make_context(client(), *store, inputs_for("hm-shop-bbbbbb", true, std::nullopt));
  ASSERT_TRUE(provision(*context)->ok());

  std::string app_group = *context->physical_id("sg_app");
  std::string balancer_group = *context->physical_id("sg_load_balancer");
  auto groups = aws::ec2::describe_security_groups(client(), {app_group});
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  for (const aws::ec2::IngressRule& rule : groups->front().ingress) {
    EXPECT_NE(rule.cidr_block, "0.0.0.0/0") << "port " << rule.from_port;
    if (rule.from_port == 3000) EXPECT_EQ(rule.source_group_id, balancer_group);
    if (rule.from_port == 22) EXPECT_EQ(rule.cidr_block, "203.0.113.7/32");
  }
}

TEST_F(ProvisionerTest, WorkerHasNoLoadBalancer) {
  auto store = open_store();
  create_deployment_row(*store, "hm-shop-cccccc");
  auto context = make_context(client(), *store, inputs_for("hm-shop-cccccc", false, std::nullopt));
  ASSERT_TRUE(provision(*context)->ok());

  auto balancers = aws::elbv2::describe_load_balancers(client(), {});
  ASSERT_TRUE(balancers.ok());
  EXPECT_TRUE(balancers->empty());
  EXPECT_EQ(tagged_in_aws("hm-shop-cccccc")["instance"], 1);
}

TEST_F(ProvisionerTest, SecondRunReusesEverything) {
  auto store = open_store();
  create_deployment_row(*store, "hm-shop-dddddd");
  auto context = make_context(client(), *store, inputs_for("hm-shop-dddddd", true, "mysql"));
  ASSERT_TRUE(provision(*context)->ok());
  std::string vpc = *context->physical_id("vpc");

  std::vector<ResourceEvent> events;
  std::mutex events_mutex;
  context->on_event = [&](const ResourceEvent& event) {
    std::lock_guard lock(events_mutex);
    events.push_back(event);
  };
  ASSERT_TRUE(provision(*context)->ok());

  EXPECT_EQ(*context->physical_id("vpc"), vpc);
  for (const ResourceEvent& event : events) {
    EXPECT_EQ(event.kind, ResourceEvent::Kind::kReused) << event.resource;
  }
  for (const auto& [name, count] : tagged_in_aws("hm-shop-dddddd")) EXPECT_EQ(count, 1) << name;
}

TEST_F(ProvisionerTest, TeardownLeavesNothingTagged) {
  auto store = open_store();
  create_deployment_row(*store, "hm-shop-eeeeee");
  auto context = make_context(client(), *store, inputs_for("hm-shop-eeeeee", true, "postgres"));
  ASSERT_TRUE(provision(*context)->ok());

  Result<TeardownResult> removed = teardown_recorded(*context);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_TRUE(removed->ok()) << (removed->failures.empty() ? "" : removed->failures.front().error.describe());
  EXPECT_TRUE(tagged_in_aws("hm-shop-eeeeee").empty());

  auto resources = store->resources("hm-shop-eeeeee");
  ASSERT_TRUE(resources.ok());
  for (const state::Resource& resource : *resources) {
    EXPECT_EQ(resource.status, state::ResourceStatus::deleted) << resource.logical_name;
  }
}

TEST_F(ProvisionerTest, TeardownOfDiscoveredResourcesWorksWithoutState) {
  {
    auto store = open_store();
    create_deployment_row(*store, "hm-shop-ffffff");
    auto context = make_context(client(), *store, inputs_for("hm-shop-ffffff", true, "postgres"));
    ASSERT_TRUE(provision(*context)->ok());
  }

  TempDir other_state;
  state::StoreOptions options;
  options.state_dir = other_state.path();
  auto fresh = state::Store::open(options);
  ASSERT_TRUE(fresh.ok());
  auto found = discover(client(), "hm-shop-ffffff");
  ASSERT_TRUE(found.ok());
  std::vector<state::Resource> resources = as_state_resources(*found);

  state::Deployment deployment;
  deployment.id = "hm-shop-ffffff";
  deployment.app_name = "shop";
  deployment.created_at = std::chrono::system_clock::now();
  ASSERT_TRUE((*fresh)->create_deployment(deployment).ok());
  for (const state::Resource& resource : resources) {
    auto intent = (*fresh)->record_intent({resource.deployment_id, resource.logical_name, resource.kind, "", 0.0});
    ASSERT_TRUE(intent.ok());
    ASSERT_TRUE(
        (*fresh)
            ->record_created(resource.deployment_id, resource.logical_name, resource.physical_id, resource.arn, "{}")
            .ok());
  }

  auto context = make_context(client(), **fresh, inputs_for("hm-shop-ffffff", true, "postgres"));
  Result<TeardownResult> removed = teardown(*context, resources);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->ok()) << (removed->failures.empty() ? "" : removed->failures.front().error.describe());
  EXPECT_TRUE(tagged_in_aws("hm-shop-ffffff").empty());
}

TEST_F(ProvisionerTest, DeletingVpcWithSubnetWaitsForSubnet) {
  // Teardown order puts subnets before their VPC; a VPC delete that comes
  // too early fails with DependencyViolation and is tried again.
  auto vpc = aws::ec2::create_vpc(client(), "10.9.0.0/16", {});
  ASSERT_TRUE(vpc.ok());
  auto subnet = aws::ec2::create_subnet(client(), vpc->id, "10.9.1.0/24", "us-east-1a", {});
  ASSERT_TRUE(subnet.ok());
  auto early = aws::ec2::delete_vpc(client(), vpc->id);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, "DependencyViolation");

  std::vector<state::Resource> resources(2);
  resources[0].logical_name = "vpc";
  resources[0].kind = "ec2:vpc";
  resources[0].physical_id = vpc->id;
  resources[1].logical_name = "subnet_public_a";
  resources[1].kind = "ec2:subnet";
  resources[1].physical_id = subnet->id;
  graph::Graph graph = teardown_graph(resources);
  EXPECT_EQ(graph.dependencies_of("subnet_public_a"), std::vector<std::string>{"vpc"});
  EXPECT_TRUE(graph.dependencies_of("vpc").empty());
}

// Kills the provisioning process just before its N-th AWS call, for every N
// of a whole run; then a new run resumes, and a teardown removes everything.
TEST_F(ProvisionerTest, CrashAtEveryCallLeavesNoOrphanOrDuplicate) {
  const PlanInputs base = inputs_for("hm-shop-crash0", true, "postgres");

  // Count the calls of one whole run.
  int total_calls = 0;
  {
    TempDir counting_dir;
    state::StoreOptions options;
    options.state_dir = counting_dir.path();
    auto store = state::Store::open(options);
    ASSERT_TRUE(store.ok());
    create_deployment_row(**store, base.deployment_id);
    auto transport = std::make_shared<CrashingTransport>(std::make_shared<aws::CurlTransport>(), -1);
    aws::AwsClient counting(moto().client_config(), transport);
    auto context = make_context(counting, **store, base);
    ASSERT_TRUE(provision(*context)->ok());
    total_calls = transport->sent();
    ASSERT_TRUE(teardown_recorded(*context)->ok());
  }
  ASSERT_GT(total_calls, 20);

  for (int crash_at = 1; crash_at <= total_calls; ++crash_at) {
    SCOPED_TRACE("crash before call " + std::to_string(crash_at));
    ASSERT_TRUE(moto().reset());
    TempDir run_dir;
    state::StoreOptions options;
    options.state_dir = run_dir.path();
    std::string id = "hm-shop-crash" + std::to_string(crash_at % 10);
    PlanInputs inputs = base;
    inputs.deployment_id = id;
    {
      auto store = state::Store::open(options);
      ASSERT_TRUE(store.ok());
      create_deployment_row(**store, id);
    }

    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = state::Store::open(options);
      if (!store.ok()) _exit(2);
      auto transport = std::make_shared<CrashingTransport>(std::make_shared<aws::CurlTransport>(), crash_at);
      aws::AwsClient crashing(moto().client_config(), transport);
      Result<Plan> plan = build_plan(inputs);
      InfraContext context(crashing, **store, inputs, *plan, run_dir.path() / id);
      context.wait.sleep = [](std::chrono::milliseconds) {};
      auto result = provision(context);
      _exit(result.ok() && result->ok() ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 86) << "the child did not reach call " << crash_at;

    auto store = state::Store::open(options);
    ASSERT_TRUE(store.ok()) << store.error().describe();
    auto context = make_context(client(), **store, inputs);
    auto resumed = provision(*context);
    ASSERT_TRUE(resumed.ok());
    ASSERT_TRUE(resumed->ok()) << (resumed->failures.empty() ? "" : resumed->failures.front().error.describe());
    for (const auto& [name, count] : tagged_in_aws(id)) EXPECT_EQ(count, 1) << name << " was created twice";

    auto removed = teardown_recorded(*context);
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(removed->ok());
    EXPECT_TRUE(tagged_in_aws(id).empty());
  }
}

}  // namespace
}  // namespace hivemind::infra
