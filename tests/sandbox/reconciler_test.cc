#include "sandbox/reconciler.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
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

// True when nothing listens on 127.0.0.1:`port` and it can be bound now.
bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

// The first of ten free consecutive ports at or after `from`, in steps of
// ten. A fixed base clashed with a proxy that a previous test program had
// not yet released.
std::uint16_t free_port_range(int from) {
  for (int base = from; base < from + 1000; base += 10) {
    bool all_free = true;
    for (int port = base; port < base + 10 && all_free; ++port) all_free = port_is_free(port);
    if (all_free) return static_cast<std::uint16_t>(base);
  }
  return 0;
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
    settings_.proxy_base_port = free_port_range(47250 + 10 * (::getpid() % 20));
    settings_.database_base_port = free_port_range(48350);
    ASSERT_NE(settings_.proxy_base_port, 0) << "no ten free ports from 47250";
    ASSERT_NE(settings_.database_base_port, 0) << "no ten free ports from 48350";
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

  ASSERT_TRUE(right.ok());
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(right->exit_code, 0) << right->output;
  EXPECT_EQ(right->output, "app@shop\n");
  EXPECT_NE(wrong->exit_code, 0);

  call(aws::rds_service(), "DeleteDBInstance", {{"DBInstanceIdentifier", "appdb"}, {"SkipFinalSnapshot", "true"}});
  reconcile();
  EXPECT_FALSE(reconciler_->address_map().database(address, port).ok());
  EXPECT_FALSE(fs::exists(paths_.databases_dir() / "appdb"));
}

// Two hosts serving their own instance id on port 8080 behind an ALB.
class LoadBalancerTest : public ReconcilerTest {
 protected:
  void SetUp() override {
    ReconcilerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    import_key();
    pugi::xml_node vpc = call(aws::ec2_service(), "CreateVpc", {{"CidrBlock", "10.20.0.0/16"}});
    vpc_ = vpc.child("vpc").child("vpcId").text().as_string();
    subnet_a_ = create_subnet("10.20.1.0/24", "us-east-1a");
    subnet_b_ = create_subnet("10.20.2.0/24", "us-east-1b");
    blue_ = run_instance(subnet_a_);
    green_ = run_instance(subnet_b_);
    reconcile();
    start_app(blue_);
    start_app(green_);

    pugi::xml_node group = call(aws::elbv2_service(), "CreateTargetGroup",
                                {{"Name", "web"},
                                 {"Protocol", "HTTP"},
                                 {"Port", "8080"},
                                 {"VpcId", vpc_},
                                 {"HealthCheckPath", "/"},
                                 {"HealthCheckIntervalSeconds", "5"},
                                 {"HealthCheckTimeoutSeconds", "2"},
                                 {"HealthyThresholdCount", "2"},
                                 {"UnhealthyThresholdCount", "2"},
                                 {"Matcher.HttpCode", "200"}});
    group_arn_ = group.child("TargetGroups").child("member").child("TargetGroupArn").text().as_string();
    pugi::xml_node balancer = call(aws::elbv2_service(), "CreateLoadBalancer",
                                   {{"Name", "web"}, {"Subnets.member.1", subnet_a_}, {"Subnets.member.2", subnet_b_}});
    pugi::xml_node member = balancer.child("LoadBalancers").child("member");
    dns_name_ = member.child("DNSName").text().as_string();
    call(aws::elbv2_service(), "CreateListener",
         {{"LoadBalancerArn", member.child("LoadBalancerArn").text().as_string()},
          {"Protocol", "HTTP"},
          {"Port", "80"},
          {"DefaultActions.member.1.Type", "forward"},
          {"DefaultActions.member.1.TargetGroupArn", group_arn_}});
    register_target(blue_);
    register_target(green_);
    reconcile();
  }

  std::string create_subnet(const std::string& cidr, const std::string& zone) {
    pugi::xml_node subnet =
        call(aws::ec2_service(), "CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", cidr}, {"AvailabilityZone", zone}});
    return subnet.child("subnet").child("subnetId").text().as_string();
  }

  void start_app(const std::string& id) {
    auto started =
        ssh(id, "cd /opt/hivemind && echo " + id +
                    " > index.html && (nohup python3 -m http.server 8080 >/dev/null 2>&1 & echo $! > app.pid)"
                    " && for i in $(seq 50); do python3 -c 'import socket; socket.create_connection("
                    "(\"127.0.0.1\", 8080))' 2>/dev/null && break; sleep 0.1; done; echo started");
    ASSERT_TRUE(started.ok());
    ASSERT_EQ(started->output, "started\n");
  }

  void register_target(const std::string& id) {
    call(aws::elbv2_service(), "RegisterTargets", {{"TargetGroupArn", group_arn_}, {"Targets.member.1.Id", id}});
  }

  // Returns the body of a GET through the load balancer's local proxy.
  std::string get_through_proxy() {
    auto endpoint = reconciler_->address_map().load_balancer(dns_name_, 80);
    if (!endpoint) return "not mapped";
    auto result = run_command({"curl", "-s", "--max-time", "5", "http://" + endpoint->to_string() + "/"});
    return result ? result->output : std::string();
  }

  std::set<std::string> bodies(int requests) {
    std::set<std::string> seen;
    for (int i = 0; i < requests; ++i) seen.insert(get_through_proxy());
    return seen;
  }

  // Waits, up to `limit`, until haproxy reports `server` with exactly
  // `status` ("UP", "DOWN"), not a transition such as "UP 1/2". Returns the
  // last status seen, followed by the last check's result.
  std::string wait_for_health(const std::string& server, const std::string& status, std::chrono::seconds limit) {
    std::string current;
    std::string last;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto health = read_proxy_health(reconciler_->address_map().load_balancers.at(dns_name_).stats_socket);
      if (health) {
        for (const ServerHealth& entry : *health) {
          if (entry.server == server) {
            current = entry.status;
            last = entry.status + " " + entry.last_check;
          }
        }
      }
      if (current == status) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return last;
  }

  // The proxy's configuration and log, for failure messages.
  std::string proxy_files() {
    return read_text(paths_.haproxy_dir() / "haproxy.cfg") + read_text(paths_.haproxy_dir() / "haproxy.log");
  }

  std::string vpc_, subnet_a_, subnet_b_, blue_, green_, group_arn_, dns_name_;
};

TEST_F(LoadBalancerTest, ProxyForwardsToBothTargets) {
  ASSERT_EQ(wait_for_health(blue_, "UP", std::chrono::seconds(30)), "UP L7OK") << proxy_files();
  ASSERT_EQ(wait_for_health(green_, "UP", std::chrono::seconds(30)), "UP L7OK") << proxy_files();

  std::set<std::string> seen = bodies(6);

  EXPECT_EQ(seen, (std::set<std::string>{blue_ + "\n", green_ + "\n"}));
  auto endpoint = reconciler_->address_map().load_balancer(dns_name_);
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->host, "127.0.0.1");
}

TEST_F(LoadBalancerTest, DeregisteringTargetMovesTraffic) {
  call(aws::elbv2_service(), "DeregisterTargets", {{"TargetGroupArn", group_arn_}, {"Targets.member.1.Id", blue_}});
  reconcile();
  ASSERT_EQ(wait_for_health(green_, "UP", std::chrono::seconds(30)), "UP L7OK") << proxy_files();

  std::set<std::string> seen = bodies(6);

  EXPECT_EQ(seen, (std::set<std::string>{green_ + "\n"}));
}

TEST_F(LoadBalancerTest, HealthCheckMarksStoppedAppDown) {
  ASSERT_EQ(wait_for_health(blue_, "UP", std::chrono::seconds(30)), "UP L7OK") << proxy_files();
  auto stopped = ssh(blue_, "kill $(cat /opt/hivemind/app.pid) && echo stopped");
  ASSERT_TRUE(stopped.ok());
  ASSERT_EQ(stopped->output, "stopped\n");

  std::string status = wait_for_health(blue_, "DOWN", std::chrono::seconds(40));

  EXPECT_EQ(status.rfind("DOWN ", 0), 0u) << status;
  ASSERT_EQ(wait_for_health(green_, "UP", std::chrono::seconds(30)), "UP L7OK") << proxy_files();
  EXPECT_EQ(bodies(4), (std::set<std::string>{green_ + "\n"}));
}

TEST_F(LoadBalancerTest, DeletedLoadBalancerLeavesMap) {
  pugi::xml_node balancers = call(aws::elbv2_service(), "DescribeLoadBalancers", {});
  std::string arn = balancers.child("LoadBalancers").child("member").child("LoadBalancerArn").text().as_string();

  call(aws::elbv2_service(), "DeleteLoadBalancer", {{"LoadBalancerArn", arn}});
  reconcile();

  EXPECT_FALSE(reconciler_->address_map().load_balancer(dns_name_).ok());
  auto health = read_proxy_health(paths_.haproxy_dir().string() + "/stats.sock");
  EXPECT_FALSE(health.ok());
}

}  // namespace
}  // namespace hivemind::sandbox
