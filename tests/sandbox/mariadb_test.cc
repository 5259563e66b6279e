// MySQL-engine DB instances in the sandbox: a real MariaDB server behind the
// address map, checked with Overwatch's MySQL login check. Needs root (the
// server runs as the mysql account, and listens on the bridge address).

#include "sandbox/mariadb.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/host.h"
#include "sandbox/process.h"
#include "sandbox/reconciler.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"
#include "verify/overwatch.h"

namespace hivemind::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassword = "maria-Pass-456\\x";
constexpr const char* kParameter = "/hivemind/test/mysql-password";

TEST(MariadbQuotingTest, EscapesQuoteAndBackslash) {
  EXPECT_EQ(mariadb_literal("it's"), "'it\\'s'");
  EXPECT_EQ(mariadb_literal("a\\b"), "'a\\\\b'");
  EXPECT_EQ(mariadb_identifier("shop`db"), "`shop``db`");
}

class MariadbSandboxTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
    MotoTest::SetUp();
    // The mysql account must be able to enter the state folder.
    ::chmod(dir_.path().c_str(), 0711);
    ASSERT_TRUE(ensure_bridge().ok());
    settings_.moto_endpoint = moto().endpoint();
    settings_.database_base_port = 47370;
    reconciler_ = std::make_unique<Reconciler>(paths_, settings_, client());
  }

  void TearDown() override {
    if (reconciler_) reconciler_->teardown();
  }

  // Creates a mysql DB instance tagged with its password parameter and
  // returns its endpoint as moto reports it.
  std::pair<std::string, std::uint16_t> create_instance() {
    auto put = client().json(aws::ssm_service(), "PutParameter",
                             {{"Name", kParameter}, {"Value", kPassword}, {"Type", "SecureString"}});
    EXPECT_TRUE(put.ok());
    auto created = client().query(aws::rds_service(), "CreateDBInstance",
                                  {{"DBInstanceIdentifier", "mysqldb"},
                                   {"Engine", "mysql"},
                                   {"DBInstanceClass", "db.t3.micro"},
                                   {"MasterUsername", "hivemind"},
                                   {"MasterUserPassword", kPassword},
                                   {"DBName", "app"},
                                   {"AllocatedStorage", "20"},
                                   {"Tags.Tag.1.Key", kPasswordParameterTag},
                                   {"Tags.Tag.1.Value", kParameter}});
    EXPECT_TRUE(created.ok());
    if (!created) return {};
    pugi::xml_node endpoint = created->result.child("DBInstance").child("Endpoint");
    return {endpoint.child("Address").text().as_string(),
            static_cast<std::uint16_t>(endpoint.child("Port").text().as_uint())};
  }

  verify::CheckResult login(const Endpoint& endpoint, const std::string& password) {
    verify::DatabaseCheck check;
    check.engine = "mysql";
    check.host = endpoint.host;
    check.port = endpoint.port;
    check.user = "hivemind";
    check.password = Secret(password);
    check.database = "app";
    return verify::check_database(check);
  }

  void reconcile() {
    Status status = reconciler_->reconcile_once();
    ASSERT_TRUE(status.ok()) << status.error().describe();
  }

  testing::TempDir dir_;
  SandboxPaths paths_{dir_.path() / "state"};
  SandboxSettings settings_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(MariadbSandboxTest, MysqlInstanceBecomesMariadb) {
  auto [address, port] = create_instance();
  ASSERT_EQ(port, 3306);

  reconcile();

  auto local = reconciler_->address_map().database(address, port);
  ASSERT_TRUE(local.ok()) << local.error().describe();
  const DatabaseEntry& entry = reconciler_->address_map().databases.at(address + ":3306");
  EXPECT_EQ(entry.engine, "mysql");
  EXPECT_EQ(entry.from_hosts.host, kBridgeAddress);
  verify::CheckResult right = login(*local, kPassword);
  EXPECT_TRUE(right.passed) << right.detail;
  verify::CheckResult from_hosts = login(entry.from_hosts, kPassword);
  EXPECT_TRUE(from_hosts.passed) << from_hosts.detail;
  verify::CheckResult wrong = login(*local, "wrong-password");
  EXPECT_EQ(wrong.diagnosis, verify::Diagnosis::kAuthFailed) << wrong.detail;
}

TEST_F(MariadbSandboxTest, SecondReconcileKeepsServer) {
  auto [address, port] = create_instance();
  reconcile();
  pid_t first = read_pid_file(paths_.databases_dir() / "mysqldb" / "server.pid");
  ASSERT_GT(first, 0);

  reconcile();

  EXPECT_EQ(read_pid_file(paths_.databases_dir() / "mysqldb" / "server.pid"), first);
  EXPECT_TRUE(process_alive(first));
}

TEST_F(MariadbSandboxTest, DeletedInstanceStopsServer) {
  auto [address, port] = create_instance();
  reconcile();
  pid_t server = read_pid_file(paths_.databases_dir() / "mysqldb" / "server.pid");
  ASSERT_GT(server, 0);

  ASSERT_TRUE(client()
                  .query(aws::rds_service(), "DeleteDBInstance",
                         {{"DBInstanceIdentifier", "mysqldb"}, {"SkipFinalSnapshot", "true"}})
                  .ok());
  reconcile();

  EXPECT_FALSE(reconciler_->address_map().database(address, port).ok());
  EXPECT_FALSE(fs::exists(paths_.databases_dir() / "mysqldb"));
  EXPECT_FALSE(process_alive(server));
}

}  // namespace
}  // namespace hivemind::sandbox
