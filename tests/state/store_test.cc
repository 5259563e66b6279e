// The conformance suite of the state store: every method, reopening, and
// migration from an older schema.

#include "state/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "state/paths.h"
#include "state/schema.h"
#include "state/sqlite.h"
#include "state/store_fixture.h"

namespace hivemind::state {
namespace {

using testing::open_store;
using testing::sample_deployment;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path() / "state");
    ASSERT_NE(store_, nullptr);
    deployment_ = sample_deployment();
    ASSERT_TRUE(store_->create_deployment(deployment_).ok());
  }

  void reopen() {
    store_.reset();
    store_ = open_store(dir_.path() / "state");
    ASSERT_NE(store_, nullptr);
  }

  ResourceIntent intent(const std::string& logical_name, const std::string& kind = "ec2:vpc") {
    return ResourceIntent{deployment_.id, logical_name, kind, "", 3.5};
  }

  hivemind::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  Deployment deployment_;
};

TEST_F(StoreTest, CreatesMissingStateFolder) {
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_.path() / "state" / "state.db"));
  EXPECT_EQ(store_->schema_version(), schema::latest_version());
}

TEST_F(StoreTest, DeploymentRoundTripsEveryField) {
  auto found = store_->find_deployment(deployment_.id);
  ASSERT_TRUE(found.ok()) << found.error().describe();
  EXPECT_EQ(found->id, deployment_.id);
  EXPECT_EQ(found->app_name, "shop");
  EXPECT_EQ(found->description, deployment_.description);
  EXPECT_EQ(found->source, deployment_.source);
  EXPECT_EQ(found->version, "1a2b3c4d-dirty");
  EXPECT_EQ(found->region, "eu-west-1");
  EXPECT_EQ(found->endpoint_kind, EndpointKind::sandbox);
  EXPECT_EQ(found->status, DeploymentStatus::pending);
  EXPECT_FALSE(found->failed_stage.has_value());
  EXPECT_FALSE(found->failure.has_value());
  EXPECT_EQ(found->retry_count, 1);
  EXPECT_EQ(found->max_retries, 5);
  EXPECT_EQ(found->created_at, deployment_.created_at);
  EXPECT_GT(found->updated_at, deployment_.created_at);
  EXPECT_EQ(found->options_json, deployment_.options_json);
}

TEST_F(StoreTest, RejectsDuplicateDeploymentWithoutLatching) {
  auto again = store_->create_deployment(deployment_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "state.duplicate_id");
  EXPECT_FALSE(store_->latched_error().has_value());
  EXPECT_TRUE(store_->set_status(deployment_.id, DeploymentStatus::deploying).ok());
}

TEST_F(StoreTest, UnknownDeploymentIsNotFound) {
  auto found = store_->find_deployment("hm-none-aaaaaa");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, "state.not_found");
  EXPECT_EQ(found.error().message, "No deployment with id hm-none-aaaaaa is recorded in the state.");

  auto status = store_->set_status("hm-none-aaaaaa", DeploymentStatus::deployed);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "state.not_found");
  EXPECT_FALSE(store_->latched_error().has_value());
}

TEST_F(StoreTest, UpdatesStatusFailureAndFields) {
  ASSERT_TRUE(store_->set_status(deployment_.id, DeploymentStatus::deploying).ok());
  ASSERT_TRUE(store_
                  ->record_failure(deployment_.id, StageName::provision,
                                   FailureInfo{"provisioner", "ec2:CreateVpc", "req-123", "VpcLimitExceeded"})
                  .ok());

  auto failed = store_->find_deployment(deployment_.id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, DeploymentStatus::failed);
  EXPECT_EQ(failed->failed_stage, StageName::provision);
  ASSERT_TRUE(failed->failure.has_value());
  EXPECT_EQ(failed->failure->agent, "provisioner");
  EXPECT_EQ(failed->failure->action, "ec2:CreateVpc");
  EXPECT_EQ(failed->failure->aws_request_id, "req-123");
  EXPECT_EQ(failed->failure->message, "VpcLimitExceeded");

  Deployment changed = *failed;
  changed.status = DeploymentStatus::deployed;
  changed.failed_stage.reset();
  changed.failure.reset();
  changed.retry_count = 2;
  changed.version = "ffff0000";
  ASSERT_TRUE(store_->update_deployment(changed).ok());

  auto updated = store_->find_deployment(deployment_.id);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->status, DeploymentStatus::deployed);
  EXPECT_FALSE(updated->failure.has_value());
  EXPECT_FALSE(updated->failed_stage.has_value());
  EXPECT_EQ(updated->retry_count, 2);
  EXPECT_EQ(updated->version, "ffff0000");
  EXPECT_EQ(updated->created_at, deployment_.created_at);
}

TEST_F(StoreTest, ListsDeploymentsOldestFirst) {
  Deployment older = sample_deployment("blog");
  older.created_at = deployment_.created_at - std::chrono::hours(1);
  ASSERT_TRUE(store_->create_deployment(older).ok());

  auto list = store_->list_deployments();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, older.id);
  EXPECT_EQ((*list)[1].id, deployment_.id);
}

TEST_F(StoreTest, DeletesDeploymentWithItsRows) {
  ASSERT_TRUE(store_->record_intent(intent("vpc")).ok());
  ASSERT_TRUE(store_->append_event(Event{0, deployment_.id, {}, "janitor", "destroy", "succeeded", ""}).ok());
  ASSERT_TRUE(store_->set_attribute(deployment_.id, "url", "http://x").ok());

  ASSERT_TRUE(store_->delete_deployment(deployment_.id).ok());

  EXPECT_EQ(store_->find_deployment(deployment_.id).error().code, "state.not_found");
  EXPECT_TRUE(store_->resources(deployment_.id)->empty());
  EXPECT_TRUE(store_->events(deployment_.id)->empty());
  EXPECT_TRUE(store_->attributes(deployment_.id)->empty());
}

TEST_F(StoreTest, RecordsStageRuns) {
  const TimePoint start = TimePoint(std::chrono::milliseconds(1'700'000'100'000));
  auto first = store_->start_stage(deployment_.id, StageName::build, 1, start);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(
      store_->finish_stage(*first, StageOutcome::failed, start + std::chrono::milliseconds(1500), "npm ci failed")
          .ok());
  auto second = store_->start_stage(deployment_.id, StageName::build, 2, start + std::chrono::seconds(2));
  ASSERT_TRUE(second.ok());

  auto runs = store_->stage_runs(deployment_.id);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].stage, StageName::build);
  EXPECT_EQ((*runs)[0].outcome, StageOutcome::failed);
  EXPECT_EQ((*runs)[0].duration(), std::chrono::milliseconds(1500));
  EXPECT_EQ((*runs)[0].error, "npm ci failed");
  EXPECT_EQ((*runs)[1].attempt, 2);
  EXPECT_EQ((*runs)[1].outcome, StageOutcome::running);
  EXPECT_FALSE((*runs)[1].finished_at.has_value());

  auto missing = store_->finish_stage(9999, StageOutcome::succeeded, start, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "state.not_found");
}

TEST_F(StoreTest, WalksResourceThroughItsLifecycle) {
  auto recorded = store_->record_intent(intent("vpc"));
  ASSERT_TRUE(recorded.ok()) << recorded.error().describe();
  EXPECT_EQ(recorded->status, ResourceStatus::creating);
  EXPECT_EQ(recorded->kind, "ec2:vpc");
  EXPECT_EQ(recorded->client_token.rfind(deployment_.id + "-vpc-", 0), 0u) << recorded->client_token;
  EXPECT_LE(recorded->client_token.size(), 64u);
  EXPECT_DOUBLE_EQ(recorded->estimated_monthly_cost_usd, 3.5);

  ASSERT_TRUE(store_
                  ->record_created(deployment_.id, "vpc", "vpc-0abc", "arn:aws:ec2:eu-west-1:1:vpc/vpc-0abc",
                                   R"({"cidr":"10.0.0.0/16"})")
                  .ok());
  auto created = store_->find_resource(deployment_.id, "vpc");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(created->has_value());
  EXPECT_EQ((*created)->status, ResourceStatus::created);
  EXPECT_EQ((*created)->physical_id, "vpc-0abc");
  EXPECT_EQ((*created)->arn, "arn:aws:ec2:eu-west-1:1:vpc/vpc-0abc");
  EXPECT_EQ((*created)->attributes_json, R"({"cidr":"10.0.0.0/16"})");
  EXPECT_EQ((*created)->client_token, recorded->client_token);

  ASSERT_TRUE(store_->record_deleting(deployment_.id, "vpc").ok());
  EXPECT_EQ((*store_->find_resource(deployment_.id, "vpc"))->status, ResourceStatus::deleting);
  ASSERT_TRUE(store_->record_delete_failed(deployment_.id, "vpc", "DependencyViolation").ok());
  auto failed = store_->find_resource(deployment_.id, "vpc");
  EXPECT_EQ((*failed)->status, ResourceStatus::delete_failed);
  EXPECT_EQ((*failed)->error, "DependencyViolation");
  ASSERT_TRUE(store_->record_deleting(deployment_.id, "vpc").ok());
  ASSERT_TRUE(store_->record_deleted(deployment_.id, "vpc").ok());
  auto deleted = store_->find_resource(deployment_.id, "vpc");
  EXPECT_EQ((*deleted)->status, ResourceStatus::deleted);
  EXPECT_EQ((*deleted)->error, "");
  EXPECT_EQ((*deleted)->physical_id, "vpc-0abc");
}

TEST_F(StoreTest, RepeatedIntentKeepsOriginalToken) {
  auto first = store_->record_intent(intent("subnet_public_a", "ec2:subnet"));
  ASSERT_TRUE(first.ok());
  ResourceIntent again = intent("subnet_public_a", "ec2:subnet");
  again.client_token = "another-token";

  auto second = store_->record_intent(again);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->client_token, first->client_token);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->status, ResourceStatus::creating);
}

TEST_F(StoreTest, IntentAfterCreateFailureStartsOver) {
  auto first = store_->record_intent(intent("db", "rds:db-instance"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->record_create_failed(deployment_.id, "db", "InsufficientDBInstanceCapacity").ok());
  EXPECT_EQ((*store_->find_resource(deployment_.id, "db"))->status, ResourceStatus::create_failed);
  ASSERT_TRUE(store_->record_intent(intent("other")).ok());

  auto retry = store_->record_intent(intent("db", "rds:db-instance"));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->status, ResourceStatus::creating);
  EXPECT_NE(retry->client_token, first->client_token);
  EXPECT_EQ(retry->error, "");

  // The retried intent is the newest, so it comes last in creation order.
  auto list = store_->resources(deployment_.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].logical_name, "other");
  EXPECT_EQ((*list)[1].logical_name, "db");
}

TEST_F(StoreTest, ListsResourcesInCreationOrder) {
  for (const char* name : {"vpc", "igw", "subnet_public_a", "sg_web", "ec2_web"}) {
    ASSERT_TRUE(store_->record_intent(intent(name)).ok());
  }
  Deployment other = sample_deployment("blog");
  ASSERT_TRUE(store_->create_deployment(other).ok());
  ASSERT_TRUE(store_->record_intent(ResourceIntent{other.id, "vpc", "ec2:vpc", "", 0}).ok());

  auto list = store_->resources(deployment_.id);
  ASSERT_TRUE(list.ok());
  std::vector<std::string> names;
  for (const auto& resource : *list) names.push_back(resource.logical_name);
  EXPECT_EQ(names, (std::vector<std::string>{"vpc", "igw", "subnet_public_a", "sg_web", "ec2_web"}));
}

TEST_F(StoreTest, ResourceWritesNeedKnownRows) {
  auto unknown_resource = store_->record_created(deployment_.id, "nothing", "i-1", "", "");
  ASSERT_FALSE(unknown_resource.ok());
  EXPECT_EQ(unknown_resource.error().code, "state.resource_not_found");

  auto unknown_deployment = store_->record_intent(ResourceIntent{"hm-none-aaaaaa", "vpc", "ec2:vpc", "", 0});
  ASSERT_FALSE(unknown_deployment.ok());
  EXPECT_EQ(unknown_deployment.error().code, "state.invalid_write");
  EXPECT_FALSE(store_->latched_error().has_value());
}

TEST_F(StoreTest, StoresVerificationsAndEventsInOrder) {
  const TimePoint when = TimePoint(std::chrono::milliseconds(1'700'000'200'000));
  ASSERT_TRUE(
      store_->add_verification(VerificationResult{0, deployment_.id, "http_health", true, "200 OK", when}).ok());
  ASSERT_TRUE(
      store_->add_verification(VerificationResult{0, deployment_.id, "ssh_password_off", false, "yes", when}).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->append_event(Event{0, deployment_.id, when, "provisioner", "create", "succeeded",
                                         "step " + std::to_string(i)})
                    .ok());
  }

  auto checks = store_->verifications(deployment_.id);
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 2u);
  EXPECT_EQ((*checks)[0].check, "http_health");
  EXPECT_TRUE((*checks)[0].passed);
  EXPECT_FALSE((*checks)[1].passed);
  EXPECT_EQ((*checks)[1].checked_at, when);

  auto timeline = store_->events(deployment_.id);
  ASSERT_TRUE(timeline.ok());
  ASSERT_EQ(timeline->size(), 3u);
  EXPECT_EQ((*timeline)[2].detail, "step 2");
  EXPECT_EQ((*timeline)[0].agent, "provisioner");
  EXPECT_EQ((*timeline)[0].time, when);
}

TEST_F(StoreTest, TrustsHostKeyOnFirstUse) {
  const HostKey key{deployment_.id, "i-0abc", "SHA256:first", TimePoint(std::chrono::seconds(1'700'000'000))};
  ASSERT_TRUE(store_->remember_host_key(key).ok());
  ASSERT_TRUE(store_->remember_host_key(key).ok());

  HostKey changed = key;
  changed.fingerprint = "SHA256:second";
  auto refused = store_->remember_host_key(changed);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "state.host_key_changed");
  EXPECT_NE(refused.error().message.find("expected SHA256:first, got SHA256:second"), std::string::npos);
  EXPECT_FALSE(store_->latched_error().has_value());

  auto stored = store_->find_host_key(deployment_.id, "i-0abc");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->fingerprint, "SHA256:first");
  EXPECT_EQ((*stored)->first_seen, key.first_seen);
  EXPECT_FALSE(store_->find_host_key(deployment_.id, "i-other")->has_value());
}

TEST_F(StoreTest, SetsAndOverwritesAttributes) {
  ASSERT_TRUE(store_->set_attribute(deployment_.id, "url", "http://old").ok());
  ASSERT_TRUE(store_->set_attribute(deployment_.id, "url", "http://new").ok());
  ASSERT_TRUE(store_->set_attribute(deployment_.id, "dns_name", "alb.example").ok());

  EXPECT_EQ(*store_->attribute(deployment_.id, "url"), std::optional<std::string>("http://new"));
  EXPECT_EQ(*store_->attribute(deployment_.id, "missing"), std::nullopt);
  auto all = store_->attributes(deployment_.id);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::map<std::string, std::string>{{"dns_name", "alb.example"}, {"url", "http://new"}}));
}

TEST_F(StoreTest, KeepsEverythingAcrossReopen) {
  ASSERT_TRUE(store_->record_intent(intent("vpc")).ok());
  ASSERT_TRUE(store_->record_created(deployment_.id, "vpc", "vpc-1", "", "{}").ok());
  ASSERT_TRUE(store_->set_attribute(deployment_.id, "url", "http://x").ok());
  ASSERT_TRUE(store_->set_status(deployment_.id, DeploymentStatus::deployed).ok());

  reopen();

  EXPECT_EQ(store_->find_deployment(deployment_.id)->status, DeploymentStatus::deployed);
  EXPECT_EQ((*store_->find_resource(deployment_.id, "vpc"))->physical_id, "vpc-1");
  EXPECT_EQ(*store_->attribute(deployment_.id, "url"), std::optional<std::string>("http://x"));
  EXPECT_EQ(store_->schema_version(), schema::latest_version());
}

TEST_F(StoreTest, SerializesWritesFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kEventsEach = 50;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEventsEach; ++i) {
        auto appended = store_->append_event(
            Event{0, deployment_.id, {}, "thread" + std::to_string(t), "write", "succeeded", std::to_string(i)});
        EXPECT_TRUE(appended.ok());
      }
    });
  }
  for (auto& writer : writers) writer.join();

  EXPECT_EQ(store_->events(deployment_.id)->size(), static_cast<std::size_t>(kThreads * kEventsEach));
}

TEST(StoreMigration, UpgradesVersionOneDatabase) {
  hivemind::testing::TempDir dir;
  const std::string id = "hm-old-abcdef";
  {
    auto connection = sqlite::Connection::open(dir.path() / "state.db");
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(schema::migrate(*connection, 1, 1000).ok());
    ASSERT_TRUE(connection
                    ->exec("INSERT INTO deployments (id, app_name, endpoint_kind, status, created_at_ms, "
                           "updated_at_ms) VALUES ('" +
                           id +
                           "', 'old', 'aws', 'deployed', 1, 1);"
                           "INSERT INTO resources (deployment_id, logical_name, kind, status, client_token, "
                           "creation_order, created_at_ms, updated_at_ms) VALUES ('" +
                           id + "', 'vpc', 'ec2:vpc', 'created', 'tok', 1, 1, 1);")
                    .ok());
    auto version = schema::current_version(*connection);
    ASSERT_TRUE(version.ok());
    ASSERT_EQ(*version, 1);
  }

  auto store = testing::open_store(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 2);
  auto vpc = store->find_resource(id, "vpc");
  ASSERT_TRUE(vpc.ok());
  ASSERT_TRUE(vpc->has_value());
  EXPECT_EQ((*vpc)->client_token, "tok");
  EXPECT_DOUBLE_EQ((*vpc)->estimated_monthly_cost_usd, 0.0);
  EXPECT_TRUE(store->add_verification(VerificationResult{0, id, "http_health", true, "", {}}).ok());
  EXPECT_EQ(store->find_deployment(id)->status, DeploymentStatus::deployed);
}

TEST(StoreMigration, RejectsNewerSchema) {
  hivemind::testing::TempDir dir;
  ASSERT_NE(testing::open_store(dir.path()), nullptr);
  {
    auto connection = sqlite::Connection::open(dir.path() / "state.db");
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection->exec("INSERT INTO schema_version (version, applied_at_ms) VALUES (99, 0)").ok());
  }

  StoreOptions options;
  options.state_dir = dir.path();
  auto store = Store::open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "state.newer_schema");
  EXPECT_NE(store.error().message.find("schema version 99"), std::string::npos);
}

TEST(DeploymentPaths, CreatesFoldersWithPrivateKeys) {
  hivemind::testing::TempDir dir;
  auto paths = ensure_deployment_dirs(dir.path(), "hm-shop-abcdef");
  ASSERT_TRUE(paths.ok()) << paths.error().describe();
  EXPECT_EQ(paths->root, dir.path() / "hm-shop-abcdef");
  EXPECT_TRUE(std::filesystem::is_directory(paths->logs));
  EXPECT_TRUE(std::filesystem::is_directory(paths->report));
  struct stat info {};
  ASSERT_EQ(::stat(paths->keys.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(DeploymentPaths, RejectsIdThatEscapesStateFolder) {
  hivemind::testing::TempDir dir;
  auto paths = ensure_deployment_dirs(dir.path(), "../etc");
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.error().code, "state.invalid_id");
}

}  // namespace
}  // namespace hivemind::state
