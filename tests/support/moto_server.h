#pragma once

// moto_server for tests: a real AWS emulator on a free loopback port.
//
// shared_moto() starts one server per test program, on first use, and stops
// it when the program exits; MotoTest resets it before every test so that
// tests do not see each other's resources. MotoServer::start() gives a
// separate server, for example one with IAM authentication on.
//
// The server runs in its own process group and receives SIGKILL when the
// test program dies, so a crashed test leaves no emulator behind. Clients
// built here carry dummy credentials and refuse any endpoint that is not a
// loopback address, so no test can reach real AWS by mistake.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/client.h"

namespace hivemind::testing {

struct MotoOptions {
  // When set, moto verifies SigV4 and IAM policies on every call after the
  // first N, which pass unauthenticated so a test can create an IAM user,
  // a policy and an access key.
  std::optional<int> initial_no_auth_action_count;
};

class MotoServer {
 public:
  // Starts moto_server on a free 127.0.0.1 port and waits until it responds.
  // Fails the calling test (and returns nullptr) when it does not come up.
  static std::unique_ptr<MotoServer> start(const MotoOptions& options = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string endpoint() const;

  // Deletes every resource in the emulator (POST /moto-api/reset).
  bool reset();

  // A config that sends every service to this server with dummy
  // credentials, no backoff sleeps and a short timeout.
  aws::ClientConfig client_config() const;
  std::unique_ptr<aws::AwsClient> make_client() const;
  std::unique_ptr<aws::AwsClient> make_client(aws::ClientConfig config) const;

 private:
  MotoServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  void stop();

  pid_t pid_;
  int port_;
};

// The credentials that the fixture's clients sign with on a server without
// IAM authentication. moto accepts any signature then.
aws::Credentials dummy_credentials();

// True when the URL's host is 127.0.0.0/8, ::1 or "localhost".
bool is_loopback_url(std::string_view url);

// The moto_server shared by a whole test program, started on first use.
MotoServer& shared_moto();

// A GoogleTest fixture on the shared server, reset before each test, with a
// client pointed at it.
class MotoTest : public ::testing::Test {
 protected:
  void SetUp() override;

  MotoServer& moto() { return shared_moto(); }
  aws::AwsClient& client() { return *client_; }

 private:
  std::unique_ptr<aws::AwsClient> client_;
};

// The IAM query service, for the calls that set up an authenticated server.
const aws::ServiceSpec& iam_test_service();

// An IAM user on an authenticated moto, with the access key that signs as it.
struct IamUser {
  std::string user_name;
  std::string policy_arn;
  aws::Credentials credentials;
};

// Number of unauthenticated calls that create_iam_user() spends.
inline constexpr int kIamUserSetupCalls = 4;

// Creates user `user_name` with a managed policy of `policy_document`
// attached, and an access key, in four calls (CreateUser, CreatePolicy,
// AttachUserPolicy, CreateAccessKey). On a server started with
// initial_no_auth_action_count = kIamUserSetupCalls these are the calls
// that pass unauthenticated; every later call must be signed with the key.
// Fails the calling test and returns nothing when a call fails.
std::optional<IamUser> create_iam_user(const MotoServer& server, const std::string& user_name,
                                       const std::string& policy_document);

}  // namespace hivemind::testing
