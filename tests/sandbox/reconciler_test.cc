#include "sandbox/reconciler.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandbox/host.h"
#include "sandbox/process.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;
using aws::QueryParams;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string base64(const std::string& text) {
  auto result = run_command({"base64", "-w0"}, text);
  return result ? result->output : std::string();
}

class ReconcilerTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
    MotoTest::SetUp();
    // The postgres account must be able to enter the state folder.
    ::chmod(dir_.path().c_str(), 0711);
    ASSERT_TRUE(ensure_bridge().ok());
    ASSERT_TRUE(ensure_host_user().ok());
    key_ = dir_.path() / "key";
    ASSERT_TRUE(run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key_.string()}).ok());
    settings_.moto_endpoint = moto().endpoint();
    settings_.proxy_base_port = 47250;
    settings_.database_base_port = 47350;
    reconciler_ = std::make_unique<Reconciler>(paths_, settings_, client());
  }

  void TearDown() override {
    if (reconciler_) reconciler_->teardown();
  }

  pugi::xml_node call(const aws::ServiceSpec& service, const char* action, const QueryParams& params) {
    auto response = client().query(service, action, params);
    EXPECT_TRUE(response.ok()) << action << ": " << (response ? "" : response.error().message);
    if (!response) return {};
    responses_.push_back(response->document);
    return response->result;
  }

  void import_key() {
    call(aws::ec2_service(), "ImportKeyPair",
         {{"KeyName", "sandbox-test"}, {"PublicKeyMaterial", base64(read_text(key_.string() + ".pub"))}});
  }

  std::string image_id() {
    pugi::xml_node images = call(aws::ec2_service(), "DescribeImages", {});
    return images.child("imagesSet").child("item").child("imageId").text().as_string();
  }

  std::string run_instance(const std::string& subnet = {}) {
    QueryParams params{{"ImageId", image_id()},
                       {"MinCount", "1"},
                       {"MaxCount", "1"},
                       {"KeyName", "sandbox-test"},
                       {"InstanceType", "t3.micro"}};
    if (!subnet.empty()) params.emplace_back("SubnetId", subnet);
    pugi::xml_node result = call(aws::ec2_service(), "RunInstances", params);
    return result.child("instancesSet").child("item").child("instanceId").text().as_string();
  }

  Result<CommandOutput> ssh(const std::string& instance_id, const std::string& command) {
    auto host = reconciler_->address_map().host(instance_id);
    if (!host) return fail(host.error());
    return run_command({"ssh", "-i", key_.string(), "-o", "StrictHostKeyChecking=no", "-o",
                        "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o",
                        "LogLevel=ERROR", host->ssh_user + "@" + host->ssh_host, command});
  }

  void reconcile() {
    Status status = reconciler_->reconcile_once();
    ASSERT_TRUE(status.ok()) << status.error().describe();
  }

  testing::TempDir dir_;
  SandboxPaths paths_{dir_.path() / "state"};
  SandboxSettings settings_;
  fs::path key_;
  std::unique_ptr<Reconciler> reconciler_;
  std::vector<std::shared_ptr<pugi::xml_document>> responses_;
};

TEST_F(ReconcilerTest, RunningInstanceBecomesHost) {
  import_key();
  std::string id = run_instance();

  reconcile();
  auto result = ssh(id, "echo ok");

  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->output, "ok\n");
  EXPECT_TRUE(host_exists(id));
  auto map = read_address_map(paths_.address_map());
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(map->host(id).ok());
  EXPECT_TRUE(is_sandbox_endpoint(*map, moto().endpoint()));
}

TEST_F(ReconcilerTest, TerminationTearsHostDown) {
  import_key();
  std::string id = run_instance();
  reconcile();
  ASSERT_TRUE(host_exists(id));

  call(aws::ec2_service(), "TerminateInstances", {{"InstanceId.1", id}});
  reconcile();

  EXPECT_FALSE(host_exists(id));
  EXPECT_FALSE(fs::exists(paths_.host_dir(id)));
  auto map = read_address_map(paths_.address_map());
  ASSERT_TRUE(map.ok());
  EXPECT_FALSE(map->host(id).ok());
}

TEST_F(ReconcilerTest, MissingPasswordTagIsReported) {
  call(aws::rds_service(), "CreateDBInstance",
       {{"DBInstanceIdentifier", "untagged"},
        {"Engine", "postgres"},
        {"DBInstanceClass", "db.t3.micro"},
        {"MasterUsername", "app"},
        {"MasterUserPassword", "not-readable-1"},
        {"AllocatedStorage", "20"}});

  Status status = reconciler_->reconcile_once();

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "sandbox.password_unknown");
  EXPECT_TRUE(reconciler_->address_map().databases.empty());
}

TEST_F(ReconcilerTest, DbInstanceBecomesPostgresWithMasterPassword) {
  const std::string password = "sandbox-Pass-123";
  auto put = client().json(aws::ssm_service(), "PutParameter",
                           {{"Name", "/hivemind/test/db-password"}, {"Value", password}, {"Type", "SecureString"}});
  ASSERT_TRUE(put.ok());
  pugi::xml_node created = call(aws::rds_service(), "CreateDBInstance",
                                {{"DBInstanceIdentifier", "appdb"},
                                 {"Engine", "postgres"},
                                 {"DBInstanceClass", "db.t3.micro"},
                                 {"MasterUsername", "app"},
                                 {"MasterUserPassword", password},
                                 {"DBName", "shop"},
                                 {"AllocatedStorage", "20"},
                                 {"Tags.Tag.1.Key", kPasswordParameterTag},
                                 {"Tags.Tag.1.Value", "/hivemind/test/db-password"}});
  std::string address = created.child("DBInstance").child("Endpoint").child("Address").text().as_string();
  auto port = static_cast<std::uint16_t>(created.child("DBInstance").child("Endpoint").child("Port").text().as_uint());

  reconcile();
  auto local = reconciler_->address_map().database(address, port);
  ASSERT_TRUE(local.ok()) << local.error().describe();
  std::vector<std::string> psql{"psql",
                                "-X",
                                "-tA",
                                "-h",
                                local->host,
                                "-p",
                                std::to_string(local->port),
                                "-U",
                                "app",
                                "-d",
                                "shop",
                                "-c",
                                "SELECT current_user || '@' || current_database()"};
  auto right = run_command(psql, {}, {"PGPASSWORD=" + password});
  auto wrong = run_command(psql, {}, {"PGPASSWORD=wrong-password"});

  ASSERT_TRUE(right.ok() && wrong.ok());
  EXPECT_EQ(right->exit_code, 0) << right->output;
  EXPECT_EQ(right->output, "app@shop\n");
  EXPECT_NE(wrong->exit_code, 0);

  call(aws::rds_service(), "DeleteDBInstance", {{"DBInstanceIdentifier", "appdb"}, {"SkipFinalSnapshot", "true"}});
  reconcile();
  EXPECT_FALSE(reconciler_->address_map().database(address, port).ok());
  EXPECT_FALSE(fs::exists(paths_.databases_dir() / "appdb"));
}

}  // namespace
}  // namespace hivemind::sandbox
