#include "remote/session.h"

#include <gtest/gtest.h>

#include "remote/remote_fixture.h"

namespace hivemind::remote {
namespace {

using SessionTest = RemoteTest;

TEST_F(SessionTest, FirstConnectionReturnsHostKeyFingerprint) {
  auto session = Session::connect(options());
  ASSERT_TRUE(session.ok()) << session.error().describe() << "\n" << sshd_->log_text();

  EXPECT_EQ(session->host_key_fingerprint(), sshd_->host_key_fingerprint());
  EXPECT_EQ(session->target(), "root@127.0.0.1:" + std::to_string(sshd_->port()));
}

TEST_F(SessionTest, RecordedFingerprintIsAccepted) {
  ConnectOptions with_fingerprint = options();
  with_fingerprint.expected_host_key_fingerprint = sshd_->host_key_fingerprint();

  auto session = Session::connect(with_fingerprint);
  ASSERT_TRUE(session.ok()) << session.error().describe();
}

TEST_F(SessionTest, ChangedHostKeyIsRejected) {
  auto first = Session::connect(options());
  ASSERT_TRUE(first.ok()) << first.error().describe();
  std::string recorded = first->host_key_fingerprint();

  sshd_->restart_with_new_host_key();
  ConnectOptions again = options();
  again.expected_host_key_fingerprint = recorded;
  auto second = Session::connect(again);

  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "remote.host_key_changed");
  EXPECT_NE(second.error().message.find("expected " + recorded), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("got " + sshd_->host_key_fingerprint()), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().remediation.find("man-in-the-middle"), std::string::npos);
}

TEST_F(SessionTest, ChangedHostKeyIsNotRetried) {
  ConnectOptions wrong = options();
  wrong.expected_host_key_fingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  wrong.connect_attempts = 3;
  wrong.retry_delay = std::chrono::milliseconds(10);
  int retries = 0;
  wrong.on_retry = [&](int, const Error&) { ++retries; };

  auto session = Session::connect(wrong);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, "remote.host_key_changed");
  EXPECT_EQ(retries, 0);
}

TEST_F(SessionTest, WrongUserIsRejected) {
  ConnectOptions wrong = options();
  wrong.user = "nobody";

  auto session = Session::connect(wrong);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, "remote.auth_failed");
  EXPECT_NE(session.error().message.find("nobody@127.0.0.1"), std::string::npos) << session.error().message;
  EXPECT_NE(session.error().remediation.find("user name"), std::string::npos);
}

TEST_F(SessionTest, UnknownKeyIsRejected) {
  auto other = generate_key_pair(keys_.path() / "other_key", "other");
  ASSERT_TRUE(other.ok()) << other.error().describe();
  ConnectOptions wrong = options();
  wrong.private_key_file = other->private_key_file;

  auto session = Session::connect(wrong);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, "remote.auth_failed");
  EXPECT_NE(session.error().message.find(other->private_key_file.string()), std::string::npos);
}

TEST_F(SessionTest, MissingKeyFileIsNamed) {
  ConnectOptions wrong = options();
  wrong.private_key_file = keys_.path() / "no_such_key";

  auto session = Session::connect(wrong);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, "remote.key_failed");
  EXPECT_NE(session.error().message.find("no_such_key"), std::string::npos);
}

// A port where nothing listens plays a host whose sshd is not up.
TEST_F(SessionTest, RefusedConnectionIsRetriedThenReported) {
  ConnectOptions down = options();
  sshd_.reset();
  down.connect_attempts = 3;
  down.retry_delay = std::chrono::milliseconds(10);
  std::vector<int> retried_attempts;
  down.on_retry = [&](int attempt, const Error& error) {
    retried_attempts.push_back(attempt);
    EXPECT_EQ(error.code, "remote.connect_failed");
  };

  auto session = Session::connect(down);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, "remote.connect_failed");
  EXPECT_NE(session.error().message.find("127.0.0.1:" + std::to_string(down.port)), std::string::npos);
  EXPECT_EQ(retried_attempts, (std::vector<int>{1, 2}));
}

TEST_F(SessionTest, RetryReachesHostThatComesUpLater) {
  ConnectOptions later = options();
  int port = sshd_->port();
  sshd_.reset();
  later.connect_attempts = 5;
  later.retry_delay = std::chrono::milliseconds(50);
  // The first failed attempt brings sshd up again on the same port, as a
  // booting host starts its sshd while the client keeps trying.
  int retries = 0;
  later.on_retry = [&](int, const Error&) {
    if (++retries == 1) sshd_ = std::make_unique<hivemind::testing::SshdServer>(key_.public_key, port);
  };

  auto session = Session::connect(later);
  ASSERT_TRUE(session.ok()) << session.error().describe();
  EXPECT_EQ(retries, 1);
}

}  // namespace
}  // namespace hivemind::remote
