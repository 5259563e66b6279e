// The deploy stage against real servers: moto for SSM and the target group,
// and a loopback sshd that the sandbox address map names as the instance's
// host. A tiny Node app is built into a real artifact, deployed, started by
// the fallback supervisor and registered in moto's target group.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/ssm.h"
#include "build/artifact.h"
#include "common/log.h"
#include "conductor/stage_deploy.h"
#include "remote/keys.h"
#include "sandbox/address_map.h"
#include "state/store.h"
#include "support/moto_server.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kPassword = "pw-Zq81/x+y@never-logged";
constexpr const char* kDbAddress = "hm-demo-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string fetch(int port) {
  std::string command = "curl -s --max-time 5 http://127.0.0.1:" + std::to_string(port) + "/ 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  return output;
}

class DeployStageTest : public hivemind::testing::MotoTest {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs node (Debian package nodejs)";
    MotoTest::SetUp();
    log_file_ = folder_.path() / "hivemind.log";
    log::configure(log_file_, spdlog::level::debug, false);

    auto opened = state::Store::open({folder_.path() / "state"});
    ASSERT_TRUE(opened.ok());
    store_ = std::move(*opened);
    context_.deployment.id = state::make_deployment_id("demo");
    context_.deployment.app_name = "demo";
    ASSERT_TRUE(store_->create_deployment(context_.deployment).ok());
    auto paths = state::ensure_deployment_dirs(folder_.path() / "state", context_.deployment.id);
    ASSERT_TRUE(paths.ok());

    auto key = remote::generate_key_pair(paths->keys / "id_ed25519", "deploy-test");
    ASSERT_TRUE(key.ok()) << key.error().describe();
    sshd_ = std::make_unique<hivemind::testing::SshdServer>(key->public_key);
    port_ = pick_free_port();

    context_.target = Target::kSandbox;
    context_.state_dir = folder_.path() / "state";
    context_.paths = *paths;
    context_.store = store_.get();
    context_.client = &client();
    context_.on_event = [this](const ConductorEvent& event) { events_.push_back(event.text); };
    settings_.base_folder = sshd_->scratch_folder().string();
    settings_.listen = std::chrono::seconds(20);
    settings_.target_health = std::chrono::seconds(20);
    settings_.poll_interval = std::chrono::milliseconds(200);
    settings_.address_map = std::chrono::seconds(0);
    settings_.ssh_attempts = 1;

    create_aws_resources();
    build_artifact();
  }

  void TearDown() override {
    if (store_) (void)stop_app_with(context_, settings_);
  }

  void record(const std::string& logical_name, const std::string& physical_id, const nlohmann::json& attributes) {
    state::ResourceIntent intent{context_.deployment.id, logical_name, "test", "", 0.0};
    ASSERT_TRUE(store_->record_intent(intent).ok());
    ASSERT_TRUE(store_->record_created(context_.deployment.id, logical_name, physical_id, "", attributes.dump()).ok());
  }

  // A running instance and a target group in moto, the password in SSM, and
  // the same resources recorded in state as the provisioner records them.
  void create_aws_resources() {
    auto vpc = aws::ec2::create_vpc(client(), "10.0.0.0/16", {});
    ASSERT_TRUE(vpc.ok());
    auto subnet = aws::ec2::create_subnet(client(), vpc->id, "10.0.1.0/24", "us-east-1a", {});
    ASSERT_TRUE(subnet.ok());
    auto ami = aws::ssm::latest_al2023_ami(client());
    ASSERT_TRUE(ami.ok());
    aws::ec2::RunInstancesRequest run;
    run.image_id = *ami;
    run.instance_type = "t3.micro";
    run.subnet_id = subnet->id;
    auto instance = aws::ec2::run_instance(client(), run);
    ASSERT_TRUE(instance.ok());
    instance_id_ = instance->id;
    aws::elbv2::CreateTargetGroupRequest group;
    group.name = "hm-demo-tg";
    group.port = port_;
    group.vpc_id = vpc->id;
    auto created_group = aws::elbv2::create_target_group(client(), group);
    ASSERT_TRUE(created_group.ok());
    target_group_arn_ = created_group->arn;
    aws::ssm::PutParameterRequest parameter{"/hivemind/demo/db-password", Secret(kPassword)};
    ASSERT_TRUE(aws::ssm::put_parameter(client(), parameter).ok());

    // moto's invented addresses, which the stage must never use.
    record("instance", instance_id_, {{"public_ip", "54.0.2.10"}, {"private_ip", "10.0.1.5"}});
    record("target_group", target_group_arn_, nlohmann::json::object());
    record("db_password", "/hivemind/demo/db-password", nlohmann::json::object());
    record("database", "hm-demo-db",
           {{"endpoint_address", kDbAddress},
            {"endpoint_port", 5432},
            {"engine", "postgres"},
            {"master_username", "hivemind"},
            {"database_name", "app"},
            {"password_parameter", "db_password"}});
  }

  void write_map(bool with_host) {
    sandbox::AddressMap map;
    if (with_host) {
      map.hosts[instance_id_] =
          sandbox::HostEntry{sshd_->host(), static_cast<std::uint16_t>(sshd_->port()), sshd_->host(), sshd_->user()};
    }
    map.databases[std::string(kDbAddress) + ":5432"] =
        sandbox::DatabaseEntry{"hm-demo-db", "postgres", {"127.0.0.1", 15432}, {"127.0.0.1", 15432}};
    std::filesystem::create_directories(sandbox::address_map_path(context_.state_dir).parent_path());
    ASSERT_TRUE(sandbox::write_address_map(sandbox::address_map_path(context_.state_dir), map).ok());
  }

  void build_artifact() {
    std::filesystem::path payload = folder_.path() / "payload";
    std::filesystem::create_directories(payload);
    std::ofstream(payload / "server.js")
        << "require('http').createServer((req, res) => res.end('up ' + (process.env.DATABASE_URL ? 'db' : 'no-db')))\n"
           "  .listen(Number(process.env.PORT), '127.0.0.1');\n";
    build::Manifest manifest;
    manifest.app = "demo";
    manifest.version = "1a2b3c4d";
    manifest.runtime = "node";
    manifest.start_command = "node server.js";
    manifest.port = port_;
    auto written = build::write_artifact(payload, manifest, folder_.path() / "demo-1a2b3c4d.tar.gz");
    ASSERT_TRUE(written.ok()) << written.error().describe();
    context_.build.emplace();
    context_.build->artifact = folder_.path() / "demo-1a2b3c4d.tar.gz";
    context_.build->manifest = *written;
  }

  std::string attribute(const std::string& key) {
    auto value = store_->attribute(context_.deployment.id, key);
    return value.ok() && value->has_value() ? **value : std::string();
  }

  hivemind::testing::TempDir folder_;
  std::filesystem::path log_file_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<hivemind::testing::SshdServer> sshd_;
  StageContext context_;
  DeploySettings settings_;
  std::vector<std::string> events_;
  std::string instance_id_;
  std::string target_group_arn_;
  int port_ = 0;
};

TEST_F(DeployStageTest, DeploysAndRegistersTarget) {
  write_map(true);

  Status status = run_deploy_with(context_, settings_);

  ASSERT_TRUE(status.ok()) << status.error().describe() << "\n" << read_file(log_file_);
  EXPECT_EQ(fetch(port_), "up db");
  auto health = aws::elbv2::describe_target_health(client(), target_group_arn_);
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ(health->front().target_id, instance_id_);
  EXPECT_EQ(health->front().state, "healthy");
  EXPECT_EQ(attribute("release"), "1a2b3c4d");
  EXPECT_EQ(attribute("instance_address"), "127.0.0.1");
  EXPECT_EQ(attribute("ssh_command"), "ssh -i " + (context_.paths.keys / "id_ed25519").string() +
                                          " root@127.0.0.1 -p " + std::to_string(sshd_->port()));
  auto key = store_->find_host_key(context_.deployment.id, instance_id_);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->fingerprint, sshd_->host_key_fingerprint());
}

TEST_F(DeployStageTest, EnvironmentFileIsPrivate) {
  write_map(true);

  Status status = run_deploy_with(context_, settings_);

  ASSERT_TRUE(status.ok()) << status.error().describe();
  std::filesystem::path env_file = sshd_->scratch_folder() / "demo/shared/.env";
  EXPECT_EQ(std::filesystem::status(env_file).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::string env = read_file(env_file);
  EXPECT_NE(env.find("PORT=\"" + std::to_string(port_) + "\""), std::string::npos) << env;
  EXPECT_NE(env.find("DATABASE_URL=\"postgresql://hivemind:pw-Zq81%2Fx%2By%40never-logged@127.0.0.1:15432/app\""),
            std::string::npos);
}

TEST_F(DeployStageTest, PasswordNeverLogged) {
  write_map(true);

  Status status = run_deploy_with(context_, settings_);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { logger->flush(); });

  ASSERT_TRUE(status.ok()) << status.error().describe();
  std::string log = read_file(log_file_);
  EXPECT_NE(log.find("step \"install dependencies\""), std::string::npos);
  EXPECT_NE(log.find("exit status 0"), std::string::npos);
  EXPECT_EQ(log.find("pw-Zq81"), std::string::npos);
  EXPECT_EQ(log.find("never-logged"), std::string::npos);
  for (const std::string& event : events_) EXPECT_EQ(event.find("never-logged"), std::string::npos) << event;
}

TEST_F(DeployStageTest, ChangedHostKeyIsRejected) {
  write_map(true);
  state::HostKey recorded{context_.deployment.id, instance_id_, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          std::chrono::system_clock::now()};
  ASSERT_TRUE(store_->remember_host_key(recorded).ok());

  Status status = run_deploy_with(context_, settings_);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "remote.host_key_changed");
  ASSERT_TRUE(context_.failure.has_value());
  EXPECT_EQ(context_.failure->agent, "deployer");
  EXPECT_EQ(context_.failure->action, "ssh:connect");
  EXPECT_FALSE(std::filesystem::exists(sshd_->scratch_folder() / "demo"));
}

TEST_F(DeployStageTest, UnmappedInstanceFailsWithoutFallback) {
  write_map(false);

  Status status = run_deploy_with(context_, settings_);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "sandbox.not_mapped");
  EXPECT_NE(status.error().message.find(instance_id_), std::string::npos) << status.error().message;
  EXPECT_EQ(status.error().message.find("54.0.2.10"), std::string::npos);
  EXPECT_EQ(context_.failure->action, "resolve-host");
}

}  // namespace
}  // namespace hivemind::conductor
