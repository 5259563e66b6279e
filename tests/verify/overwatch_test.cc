#include "verify/overwatch.h"

#include <gtest/gtest.h>

#include "support/fault_server.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "support/tls_server.h"

namespace hivemind::verify {
namespace {

using hivemind::testing::FaultServer;
using hivemind::testing::ScriptedReply;

HttpCheck http_check(const std::string& url) {
  HttpCheck check;
  check.url = url;
  check.timeout = std::chrono::milliseconds(1'500);
  return check;
}

TEST(HttpCheckTest, PassesOnExpectedStatusAndBody) {
  FaultServer server;
  server.push(ScriptedReply::respond(200, "{\"status\":\"healthy\"}"));
  HttpCheck check = http_check(server.endpoint() + "/health");
  check.body_contains = "healthy";

  CheckResult result = check_http(check);

  EXPECT_TRUE(result.passed) << result.detail;
  EXPECT_EQ(result.diagnosis, Diagnosis::kNone);
  EXPECT_EQ(server.requests().at(0).target, "/health");
}

TEST(HttpCheckTest, DiagnosesWrongStatus) {
  FaultServer server;
  server.push(ScriptedReply::respond(503, "down"));

  CheckResult result = check_http(http_check(server.endpoint() + "/"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kWrongStatus);
  EXPECT_NE(result.detail.find("HTTP 503, expected 200"), std::string::npos) << result.detail;
}

TEST(HttpCheckTest, DiagnosesMissingBodyText) {
  FaultServer server;
  server.push(ScriptedReply::respond(200, "<h1>Welcome to nginx</h1>"));
  HttpCheck check = http_check(server.endpoint() + "/");
  check.body_contains = "My App";

  CheckResult result = check_http(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kBodyMismatch);
}

TEST(HttpCheckTest, DiagnosesRefusedConnection) {
  int port = hivemind::testing::closed_loopback_port();

  CheckResult result = check_http(http_check("http://127.0.0.1:" + std::to_string(port) + "/"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kRefused) << result.detail;
}

TEST(HttpCheckTest, DiagnosesTimeout) {
  FaultServer server;
  server.push(ScriptedReply::hang());
  HttpCheck check = http_check(server.endpoint() + "/");
  check.timeout = std::chrono::milliseconds(300);

  CheckResult result = check_http(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kTimedOut) << result.detail;
}

TEST(TcpCheckTest, PassesWhenPortListens) {
  FaultServer server;
  TcpCheck check;
  check.host = "127.0.0.1";
  check.port = static_cast<std::uint16_t>(std::stoi(server.endpoint().substr(server.endpoint().rfind(':') + 1)));

  CheckResult result = check_tcp(check);

  EXPECT_TRUE(result.passed) << result.detail;
}

TEST(TcpCheckTest, DiagnosesRefusedPort) {
  TcpCheck check;
  check.host = "127.0.0.1";
  check.port = static_cast<std::uint16_t>(hivemind::testing::closed_loopback_port());

  CheckResult result = check_tcp(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kRefused);
}

class TlsCheckTest : public ::testing::Test {
 protected:
  TlsCheckTest() : ca_(folder_.path()) {}

  TlsCheck check_for(const hivemind::testing::TlsServer& server, const std::string& name) {
    TlsCheck check;
    check.host = "127.0.0.1";
    check.port = static_cast<std::uint16_t>(server.port());
    check.server_name = name;
    check.ca_file = ca_.ca_file().string();
    check.timeout = std::chrono::milliseconds(3'000);
    return check;
  }

  hivemind::testing::TempDir folder_;
  hivemind::testing::TestCa ca_;
};

TEST_F(TlsCheckTest, PassesForValidCertificate) {
  hivemind::testing::TlsServer server(ca_.issue("valid", {"app.example.test", {"app.example.test"}, {}}));

  CheckResult result = check_tls(check_for(server, "app.example.test"));

  EXPECT_TRUE(result.passed) << result.detail;
  EXPECT_NE(result.detail.find("TLSv1.3"), std::string::npos) << result.detail;
  // Issued for 90 days from this second, so 89 full days when a second has passed.
  bool days_shown = result.detail.find("expires in 90 days") != std::string::npos ||
                    result.detail.find("expires in 89 days") != std::string::npos;
  EXPECT_TRUE(days_shown) << result.detail;
}

TEST_F(TlsCheckTest, DiagnosesExpiredCertificate) {
  hivemind::testing::TlsServer server(ca_.issue("expired", {"app.example.test", {"app.example.test"}, {}, -30, -1}));

  CheckResult result = check_tls(check_for(server, "app.example.test"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kCertExpired) << result.detail;
}

TEST_F(TlsCheckTest, DiagnosesWrongHost) {
  hivemind::testing::TlsServer server(ca_.issue("other", {"other.example.test", {"other.example.test"}, {}}));

  CheckResult result = check_tls(check_for(server, "app.example.test"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kCertWrongHost) << result.detail;
}

TEST_F(TlsCheckTest, DiagnosesSelfSignedCertificate) {
  hivemind::testing::TlsServer server(
      ca_.issue("self", {"app.example.test", {"app.example.test"}, {}}, /*self_signed=*/true));

  CheckResult result = check_tls(check_for(server, "app.example.test"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kCertSelfSigned) << result.detail;
}

TEST_F(TlsCheckTest, DiagnosesCertificateNearExpiry) {
  hivemind::testing::TlsServer server(ca_.issue("soon", {"app.example.test", {"app.example.test"}, {}, -80, 5}));

  CheckResult result = check_tls(check_for(server, "app.example.test"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kCertExpiresSoon) << result.detail;
}

TEST_F(TlsCheckTest, HttpsCheckReportsBadCertificate) {
  hivemind::testing::TlsServer server(ca_.issue("expired", {"localhost", {"localhost"}, {}, -30, -1}));
  HttpCheck check = http_check("https://localhost:" + std::to_string(server.port()) + "/");
  check.ca_file = ca_.ca_file().string();

  CheckResult result = check_http(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kCertExpired) << result.detail;
}

TEST_F(TlsCheckTest, HttpsCheckPassesWithTestCa) {
  hivemind::testing::TlsServer server(ca_.issue("valid", {"localhost", {"localhost"}, {}}));
  HttpCheck check = http_check("https://localhost:" + std::to_string(server.port()) + "/");
  check.ca_file = ca_.ca_file().string();
  check.body_contains = "ok";

  CheckResult result = check_http(check);

  EXPECT_TRUE(result.passed) << result.detail;
}

class DatabaseCheckTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = hivemind::testing::PostgresServer::start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  DatabaseCheck postgres_check(const std::string& password) {
    DatabaseCheck check;
    check.engine = "postgres";
    check.host = "127.0.0.1";
    check.port = static_cast<std::uint16_t>(server_->port());
    check.user = hivemind::testing::PostgresServer::kUser;
    check.password = Secret(password);
    check.database = hivemind::testing::PostgresServer::kDatabase;
    return check;
  }

  static hivemind::testing::PostgresServer* server_;
};

hivemind::testing::PostgresServer* DatabaseCheckTest::server_ = nullptr;

TEST_F(DatabaseCheckTest, PostgresLoginSucceedsWithRightPassword) {
  ASSERT_NE(server_, nullptr);

  CheckResult result = check_database(postgres_check(hivemind::testing::PostgresServer::kPassword));

  EXPECT_TRUE(result.passed) << result.detail;
}

TEST_F(DatabaseCheckTest, PostgresWrongPasswordIsAuthFailure) {
  ASSERT_NE(server_, nullptr);

  CheckResult result = check_database(postgres_check("wrong-password"));

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kAuthFailed) << result.detail;
  EXPECT_EQ(result.detail.find("wrong-password"), std::string::npos);
}

TEST_F(DatabaseCheckTest, PostgresClosedPortIsRefused) {
  DatabaseCheck check = postgres_check("any");
  check.port = static_cast<std::uint16_t>(hivemind::testing::closed_loopback_port());

  CheckResult result = check_database(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kRefused) << result.detail;
}

TEST(DatabaseCheckEngineTest, MysqlClosedPortIsRefused) {
  DatabaseCheck check;
  check.engine = "mysql";
  check.host = "127.0.0.1";
  check.port = static_cast<std::uint16_t>(hivemind::testing::closed_loopback_port());
  check.user = "app";
  check.password = Secret("unused");
  check.timeout = std::chrono::milliseconds(2'000);

  CheckResult result = check_database(check);

  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.diagnosis, Diagnosis::kRefused) << result.detail;
}

TEST(DatabaseCheckEngineTest, UnknownEngineIsInvalidRequest) {
  DatabaseCheck check;
  check.engine = "oracle";
  check.host = "127.0.0.1";
  check.port = 1521;

  EXPECT_EQ(check_database(check).diagnosis, Diagnosis::kInvalidRequest);
}

}  // namespace
}  // namespace hivemind::verify
