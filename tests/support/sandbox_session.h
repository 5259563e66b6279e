#pragma once

// The end-to-end fixture: a whole sandbox (`hivemind sandbox up`) on a fresh
// state folder and free ports, and helpers that drive the built `hivemind`
// binary against it the way a user does.
//
// The sandbox is one per machine (the bridge hm-br0, the ec2-user account),
// so a session holds the lock file /tmp/hivemind-sandbox-tests.lock from
// before `sandbox up` until after `sandbox down`. Only one session may be
// open per process, because flock() on a second descriptor of the same file
// would wait for the first.
//
// `sandbox up` starts moto_server and the sandbox daemon detached, so a test
// program killed by a signal leaves them running. Destroying the session
// runs `sandbox down`. The helpers connect only to loopback (moto, the
// proxies of the address map) and, for ssh(), to the sandbox's own hosts on
// its bridge.
//
// Thread safety: one thread per session.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "common/result.h"
#include "sandbox/address_map.h"
#include "support/temp_dir.h"

namespace hivemind::testing {

// One run of the `hivemind` binary.
struct CliRun {
  int exit_code = -1;  // -1 when it was killed or timed out
  bool timed_out = false;
  std::string out;  // standard output
  std::string err;  // standard error
  std::chrono::milliseconds duration{0};

  // Parses standard output as JSON; a discarded value when it is not JSON.
  nlohmann::json json() const;
  // "exit 1 after 2.3 s; stdout: ...; stderr: ..." for assertion messages.
  std::string describe() const;
};

// The outcome of one HTTP GET. `error` is curl's message when no response
// came (connection refused, timed out); `status` is 0 then.
struct HttpReply {
  long status = 0;
  std::string body;
  std::string error;
};

// Sends a GET to `url` with a timeout; rejects any host that is not
// loopback without connecting.
HttpReply http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Copies a folder under examples/ of the source tree into `destination` as a
// new Git repository with one commit, so that a test can change it freely.
// Returns the repository's path, destination/<name>.
Result<std::filesystem::path> copy_example(const std::string& name, const std::filesystem::path& destination);

// Writes `files` (path relative to the repository -> content) into a new
// Git repository parent/name with one commit, and returns its path.
Result<std::filesystem::path> make_repository(const std::filesystem::path& parent, const std::string& name,
                                              const std::map<std::string, std::string>& files);

// Commits every change in a repository made by copy_example() or
// make_repository().
Status commit_all(const std::filesystem::path& repository, const std::string& message);

class SandboxSession {
 public:
  // Waits (bounded) for the sandbox lock, then runs `sandbox up` on a new
  // state folder. Returns an error, with the output of `up`, when anything
  // fails; the destructor of the partial session still runs `sandbox down`.
  // REQUIRES: root; no other session open in this process.
  static Result<std::unique_ptr<SandboxSession>> start();
  ~SandboxSession();
  SandboxSession(const SandboxSession&) = delete;
  SandboxSession& operator=(const SandboxSession&) = delete;

  const std::filesystem::path& state_dir() const { return state_dir_; }
  // A scratch folder for the test (repositories, files), removed with the session.
  const std::filesystem::path& work_dir() const { return work_dir_; }
  const std::string& moto_endpoint() const { return moto_endpoint_; }

  // Runs `hivemind --state-dir <state> <args...>` with the sandbox's
  // environment: AWS_ENDPOINT_URL at its moto, dummy credentials, no shared
  // AWS config files, AWS_EC2_METADATA_DISABLED=true and NO_COLOR.
  CliRun hivemind(const std::vector<std::string>& args,
                  std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;

  // Runs `deploy <repository> --yes --json <extra...>`. Once the deployment
  // was recorded, json()["id"] of the returned run is its id.
  CliRun deploy(const std::filesystem::path& repository, const std::vector<std::string>& extra = {}) const;

  // Runs `command` (with `input` on its standard input) on the deployment's
  // instance over OpenSSH, as the host's user and with the deployment's key
  // from <state>/<id>/keys. The host's address comes from the address map.
  CliRun ssh(const std::string& deployment_id, const std::string& command, const std::string& input = {}) const;

  // The physical id of the deployment's resource `logical_name` (e.g.
  // "instance") as `status --json` lists it; empty when it has none.
  std::string physical_id(const std::string& deployment_id, const std::string& logical_name) const;

  // The sandbox's current address map.
  Result<sandbox::AddressMap> address_map() const;

  // The local URL ("http://127.0.0.1:<port>") of the load balancer behind a
  // deployment URL such as "http://web-1.us-east-1.elb.amazonaws.com", looked
  // up in the address map. An error when the map does not contain it.
  Result<std::string> local_url(const std::string& deployment_url) const;

  // A client for the sandbox's moto with dummy credentials.
  std::unique_ptr<aws::AwsClient> make_client() const;

  // Every resource tagged hivemind:deployment=<id>, found the way the Janitor
  // finds them, counted per kind ("ec2:instance" -> 1). Terminated instances
  // are not counted.
  Result<std::map<std::string, int>> tagged_resources(const std::string& deployment_id) const;
  // The sum of tagged_resources(); -1 when the lookup failed.
  int count_tagged(const std::string& deployment_id) const;

  // The deployment's own log file, <state>/<id>/logs/hivemind.log.
  std::filesystem::path deployment_log(const std::string& deployment_id) const;

  // The last lines of the sandbox daemon's log and of each deployment's log,
  // for a failure message.
  std::string diagnostics() const;

 private:
  SandboxSession() = default;
  Status up();
  Status down();

  TempDir temp_;
  std::filesystem::path state_dir_;
  std::filesystem::path work_dir_;
  std::string moto_endpoint_;
  std::uint16_t moto_port_ = 0;
  std::uint16_t proxy_base_port_ = 0;
  std::uint16_t database_base_port_ = 0;
  int lock_fd_ = -1;
  bool up_started_ = false;
};

// A GoogleTest fixture with one sandbox per test: skipped without root,
// started in SetUp, always stopped in TearDown (also after a failed
// assertion), with the sandbox's and deployments' log tails printed when the
// test failed.
class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  SandboxSession& sandbox() { return *session_; }

 private:
  std::unique_ptr<SandboxSession> session_;
};

// A GoogleTest fixture with one sandbox for a whole test suite, for tests
// that each make their own deployment and can share moto and the hosts.
// Skipped without root; stopped after the suite's last test.
class SharedSandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  static SandboxSession& sandbox() { return *session_; }

 private:
  static inline std::unique_ptr<SandboxSession> session_;
  static inline std::string start_error_;
};

}  // namespace hivemind::testing
