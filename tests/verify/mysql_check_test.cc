// Overwatch's MySQL login check (MariaDB Connector/C) against a real local
// MariaDB server.

#include <gtest/gtest.h>

#include "support/mariadb_server.h"
#include "verify/overwatch.h"

namespace hivemind::verify {
namespace {

using hivemind::testing::MariaDbServer;

// One server for the whole suite: starting MariaDB takes a few seconds.
class MysqlCheckTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = MariaDbServer::start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  DatabaseCheck mysql_check(const std::string& password) {
    DatabaseCheck check;
    check.engine = "mysql";
    check.host = "127.0.0.1";
    check.port = static_cast<std::uint16_t>(server_->port());
    check.user = MariaDbServer::kUser;
    check.password = Secret(password);
    check.database = MariaDbServer::kDatabase;
    check.timeout = std::chrono::milliseconds(5'000);
    return check;
  }

  static MariaDbServer* server_;
};

MariaDbServer* MysqlCheckTest::server_ = nullptr;

TEST_F(MysqlCheckTest, LoginSucceedsWithRightPassword) {
  ASSERT_NE(server_, nullptr);

  CheckResult result = check_database(mysql_check(MariaDbServer::kPassword));

  EXPECT_TRUE(result.passed) << result.detail;
  EXPECT_EQ(result.diagnosis, Diagnosis::kNone);
  EXPECT_NE(result.detail.find("MariaDB"), std::string::npos) << result.detail;
}

TEST_F(MysqlCheckTest, MariadbEngineNameWorksToo) {
  ASSERT_NE(server_, nullptr);
  DatabaseCheck check = mysql_check(MariaDbServer::kPassword);
  check.engine = "mariadb";

  EXPECT_TRUE(check_database(check).passed);
}

TEST_F(MysqlCheckTest, WrongPasswordIsAuthFailure) {
  ASSERT_NE(server_, nullptr);

  CheckResult result = check_database(mysql_check("wrong-password"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kAuthFailed) << result.detail;
  EXPECT_EQ(result.detail.find("wrong-password"), std::string::npos);
  EXPECT_NE(result.detail.find("SSM"), std::string::npos) << result.detail;
}

TEST_F(MysqlCheckTest, MissingDatabaseIsAuthFailure) {
  ASSERT_NE(server_, nullptr);
  DatabaseCheck check = mysql_check(MariaDbServer::kPassword);
  check.database = "not_there";

  CheckResult result = check_database(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kAuthFailed) << result.detail;
}

}  // namespace
}  // namespace hivemind::verify
