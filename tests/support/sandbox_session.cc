#include "support/sandbox_session.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "aws/curl_transport.h"
#include "common/process.h"
#include "infra/discovery.h"
#include "sandbox/reconciler.h"
#include "support/moto_server.h"

namespace hivemind::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kNeedsRoot =
    "The sandbox needs root (network namespaces, a bridge, the ec2-user account); run this test as root.";
constexpr const char* kLockFile = "/tmp/hivemind-sandbox-tests.lock";
// Another test program, or an engineer by hand, may hold the sandbox for a
// few minutes. A session waits up to this long and then fails.
constexpr auto kLockWait = 15min;
// Proxy and database ports are handed out upwards from a base; this many
// consecutive free ports are asked of each base.
constexpr int kPortSpan = 16;
// Below Linux's default ephemeral range (32768-60999), so that outgoing
// connections rarely take them between the check and the bind.
constexpr int kLowestBase = 20000;
constexpr int kHighestBase = 32000;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// A base port whose next kPortSpan ports were all free a moment ago, and
// that does not overlap `avoid` (another base already chosen).
std::uint16_t pick_port_range(std::mt19937& random, int avoid) {
  std::uniform_int_distribution<int> pick(kLowestBase, kHighestBase - kPortSpan);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = pick(random);
    if (avoid != 0 && std::abs(base - avoid) < kPortSpan) continue;
    bool all_free = true;
    for (int port = base; port < base + kPortSpan && all_free; ++port) all_free = port_is_free(port);
    if (all_free) return static_cast<std::uint16_t>(base);
  }
  return 0;
}

std::map<std::string, std::string> base_environment() {
  std::map<std::string, std::string> environment;
  for (const char* name : {"PATH", "HOME", "TMPDIR", "LANG"}) {
    if (const char* value = std::getenv(name)) environment[name] = value;
  }
  environment["AWS_EC2_METADATA_DISABLED"] = "true";
  return environment;
}

Status run_checked(const std::vector<std::string>& argv, const fs::path& working_dir) {
  ProcessOptions options;
  options.environment = base_environment();
  options.working_dir = working_dir;
  options.timeout = 60s;
  Result<ProcessResult> result = run_process(argv, options);
  if (!result) return fail(result.error());
  if (!result->succeeded()) {
    return fail(make_error("test.command_failed",
                           fmt::format("{} exited with {}: {}", argv[0], result->exit_code, result->output),
                           "Read the output above."));
  }
  return ok_unit();
}

size_t append_body(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// Waits up to kLockWait for the exclusive lock; returns the descriptor, or -1.
int take_sandbox_lock() {
  int fd = ::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + kLockWait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::close(fd);
      return -1;
    }
    std::this_thread::sleep_for(500ms);
  }
  return fd;
}

}  // namespace

nlohmann::json CliRun::json() const { return nlohmann::json::parse(out, nullptr, false); }

std::string CliRun::describe() const {
  return fmt::format("exit {}{} after {:.1f} s\n--- stdout ---\n{}\n--- stderr ---\n{}", exit_code,
                     timed_out ? " (timed out)" : "", static_cast<double>(duration.count()) / 1000.0, out, err);
}

HttpReply http_get(const std::string& url, std::chrono::milliseconds timeout) {
  HttpReply reply;
  if (!is_loopback_url(url)) {
    reply.error = "not a loopback URL: " + url;
    return reply;
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    reply.error = "curl_easy_init failed";
    return reply;
  }
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = error[0] != '\0' ? error : curl_easy_strerror(code);
  }
  curl_easy_cleanup(curl);
  return reply;
}

Result<fs::path> copy_example(const std::string& name, const fs::path& destination) {
  fs::path source = fs::path(HIVEMIND_SOURCE_DIR) / "examples" / name;
  fs::path repository = destination / name;
  std::error_code error;
  fs::create_directories(destination, error);
  fs::copy(source, repository, fs::copy_options::recursive, error);
  if (error) {
    return fail(make_error("test.copy_failed", fmt::format("Copying {} failed: {}", source.string(), error.message()),
                           "Check that the example exists."));
  }
  if (Status init = run_checked({"git", "init", "-q", "-b", "main"}, repository); !init) return fail(init.error());
  if (Status commit = commit_all(repository, "Copy the example"); !commit) return fail(commit.error());
  return repository;
}

Result<fs::path> make_repository(const fs::path& parent, const std::string& name,
                                 const std::map<std::string, std::string>& files) {
  fs::path repository = parent / name;
  std::error_code error;
  fs::create_directories(repository, error);
  for (const auto& [path, content] : files) {
    fs::create_directories((repository / path).parent_path(), error);
    std::ofstream(repository / path, std::ios::binary) << content;
  }
  if (Status init = run_checked({"git", "init", "-q", "-b", "main"}, repository); !init) return fail(init.error());
  if (Status commit = commit_all(repository, "Add the app"); !commit) return fail(commit.error());
  return repository;
}

Status commit_all(const fs::path& repository, const std::string& message) {
  if (Status add = run_checked({"git", "add", "-A"}, repository); !add) return add;
  return run_checked({"git", "-c", "user.name=HiveMind tests", "-c", "user.email=tests@hivemind.invalid", "commit",
                      "-q", "--allow-empty", "-m", message},
                     repository);
}

Result<std::unique_ptr<SandboxSession>> SandboxSession::start() {
  std::unique_ptr<SandboxSession> session(new SandboxSession());
  if (Status status = session->up(); !status) return fail(status.error());
  return session;
}

Status SandboxSession::up() {
  lock_fd_ = take_sandbox_lock();
  if (lock_fd_ < 0) {
    return fail(make_error("test.sandbox_locked", fmt::format("The sandbox lock {} stayed taken.", kLockFile),
                           "Another sandbox test or a command by hand holds it; wait and run again."));
  }

  // PostgreSQL runs as the postgres account, which must enter the state
  // folder; mkdtemp() makes it 0700.
  fs::permissions(temp_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  state_dir_ = temp_.path() / "state";
  work_dir_ = temp_.path() / "work";
  fs::create_directories(state_dir_);
  fs::create_directories(work_dir_);

  std::mt19937 random(std::random_device{}());
  proxy_base_port_ = pick_port_range(random, 0);
  database_base_port_ = pick_port_range(random, proxy_base_port_);
  for (int attempt = 0; attempt < 50 && moto_port_ == 0; ++attempt) {
    auto port = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(kLowestBase, kHighestBase)(random));
    if (std::abs(port - proxy_base_port_) >= kPortSpan && std::abs(port - database_base_port_) >= kPortSpan &&
        port_is_free(port)) {
      moto_port_ = port;
    }
  }
  if (proxy_base_port_ == 0 || database_base_port_ == 0 || moto_port_ == 0) {
    return fail(make_error("test.no_free_ports", "No free loopback port range for the sandbox.",
                           "Free some ports between 20000 and 32000."));
  }
  moto_endpoint_ = fmt::format("http://127.0.0.1:{}", moto_port_);

  up_started_ = true;
  CliRun run = hivemind({"sandbox", "up", "--moto-port", std::to_string(moto_port_), "--proxy-base-port",
                         std::to_string(proxy_base_port_), "--database-base-port", std::to_string(database_base_port_)},
                        2min);
  if (run.exit_code != 0) {
    return fail(make_error("test.sandbox_up_failed", "hivemind sandbox up failed: " + run.describe(),
                           "Read the sandbox logs under " + (state_dir_ / "sandbox").string()));
  }
  return ok_unit();
}

Status SandboxSession::down() {
  CliRun run = hivemind({"sandbox", "down"}, 2min);
  if (run.exit_code != 0) {
    return fail(make_error("test.sandbox_down_failed", "hivemind sandbox down failed: " + run.describe(),
                           "Run it again by hand with --state-dir " + state_dir_.string()));
  }
  return ok_unit();
}

SandboxSession::~SandboxSession() {
  if (up_started_) {
    Status status = down();
    if (!status) ADD_FAILURE() << status.error().describe();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

CliRun SandboxSession::hivemind(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  fs::path err_file = temp_.path() / fmt::format("stderr-{}", ::getpid());
  std::vector<std::string> argv{"/bin/sh",
                                "-c",
                                "exec \"$@\" 2>\"$HM_TEST_STDERR\"",
                                "sh",
                                fs::path(HIVEMIND_BINARY_DIR) / "hivemind",
                                "--state-dir",
                                state_dir_.string()};
  argv.insert(argv.end(), args.begin(), args.end());

  ProcessOptions options;
  options.environment = base_environment();
  options.environment["HM_TEST_STDERR"] = err_file.string();
  options.environment["NO_COLOR"] = "1";
  options.environment["AWS_ACCESS_KEY_ID"] = "testing";
  options.environment["AWS_SECRET_ACCESS_KEY"] = "testing";
  options.environment["AWS_REGION"] = "us-east-1";
  options.environment["AWS_CONFIG_FILE"] = (temp_.path() / "no-aws-config").string();
  options.environment["AWS_SHARED_CREDENTIALS_FILE"] = (temp_.path() / "no-aws-credentials").string();
  if (!moto_endpoint_.empty()) options.environment["AWS_ENDPOINT_URL"] = moto_endpoint_;
  options.timeout = timeout;
  options.max_captured_bytes = 4 * 1024 * 1024;

  CliRun run;
  Result<ProcessResult> result = run_process(argv, options);
  if (!result) {
    run.err = result.error().describe();
    return run;
  }
  run.exit_code = result->exit_code;
  run.timed_out = result->timed_out;
  run.out = result->output;
  run.duration = result->duration;
  run.err = read_text(err_file);
  std::error_code ignored;
  fs::remove(err_file, ignored);
  return run;
}

CliRun SandboxSession::deploy(const fs::path& repository, const std::vector<std::string>& extra) const {
  std::vector<std::string> args{"deploy", repository.string(), "--yes", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return hivemind(args, 8min);
}

std::string SandboxSession::physical_id(const std::string& deployment_id, const std::string& logical_name) const {
  nlohmann::json status = hivemind({"status", deployment_id, "--json"}, 30s).json();
  if (!status.is_object() || !status.contains("resources")) return {};
  for (const nlohmann::json& resource : status["resources"]) {
    if (resource.value("logical_name", "") == logical_name && resource.value("status", "") != "deleted") {
      return resource.value("physical_id", "");
    }
  }
  return {};
}

CliRun SandboxSession::ssh(const std::string& deployment_id, const std::string& command,
                           const std::string& input) const {
  CliRun run;
  std::string instance = physical_id(deployment_id, "instance");
  Result<sandbox::AddressMap> map = address_map();
  if (instance.empty() || !map) {
    run.err = "no instance of " + deployment_id + " in the state, or no address map";
    return run;
  }
  Result<sandbox::HostEntry> host = map->host(instance);
  if (!host) {
    run.err = host.error().describe();
    return run;
  }

  ProcessOptions options;
  options.environment = base_environment();
  options.input = input;
  options.timeout = 60s;
  fs::path key = state_dir_ / deployment_id / "keys" / "id_ed25519";
  Result<ProcessResult> result =
      run_process({"ssh", "-i", key.string(), "-p", std::to_string(host->ssh_port), "-o", "StrictHostKeyChecking=no",
                   "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o",
                   "LogLevel=ERROR", host->ssh_user + "@" + host->ssh_host, command},
                  options);
  if (!result) {
    run.err = result.error().describe();
    return run;
  }
  run.exit_code = result->exit_code;
  run.timed_out = result->timed_out;
  run.out = result->output;
  run.duration = result->duration;
  return run;
}

Result<sandbox::AddressMap> SandboxSession::address_map() const {
  return sandbox::read_address_map(sandbox::address_map_path(state_dir_));
}

Result<std::string> SandboxSession::local_url(const std::string& deployment_url) const {
  std::string dns = deployment_url;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (dns.rfind(scheme, 0) == 0) dns = dns.substr(scheme.size());
  }
  dns = dns.substr(0, dns.find('/'));
  Result<sandbox::AddressMap> map = address_map();
  if (!map) return fail(map.error());
  Result<sandbox::Endpoint> proxy = map->load_balancer(dns);
  if (!proxy) return fail(proxy.error());
  return fmt::format("http://{}:{}", proxy->host, proxy->port);
}

std::unique_ptr<aws::AwsClient> SandboxSession::make_client() const {
  sandbox::SandboxSettings settings;
  settings.moto_endpoint = moto_endpoint_;
  return std::make_unique<aws::AwsClient>(sandbox::sandbox_client_config(settings),
                                          std::make_shared<aws::CurlTransport>());
}

Result<std::map<std::string, int>> SandboxSession::tagged_resources(const std::string& deployment_id) const {
  std::unique_ptr<aws::AwsClient> client = make_client();
  auto found = infra::discover(*client, deployment_id);
  if (!found.ok()) return fail(found.error().to_error());
  std::map<std::string, int> counts;
  for (const infra::DiscoveredResource& resource : *found) ++counts[resource.kind];
  return counts;
}

int SandboxSession::count_tagged(const std::string& deployment_id) const {
  Result<std::map<std::string, int>> counts = tagged_resources(deployment_id);
  if (!counts) return -1;
  int total = 0;
  for (const auto& [kind, count] : *counts) total += count;
  return total;
}

fs::path SandboxSession::deployment_log(const std::string& deployment_id) const {
  return state_dir_ / deployment_id / "logs" / "hivemind.log";
}

std::string SandboxSession::diagnostics() const {
  std::string text =
      "--- sandbox daemon log (tail) ---\n" + last_lines(read_text(state_dir_ / "sandbox" / "daemon.log"), 40);
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(state_dir_, error)) {
    fs::path log = entry.path() / "logs" / "hivemind.log";
    if (!fs::exists(log)) continue;
    text += fmt::format("\n--- {} (tail) ---\n{}", log.string(), last_lines(read_text(log), 40));
  }
  return text;
}

void SandboxTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << kNeedsRoot;
  Result<std::unique_ptr<SandboxSession>> session = SandboxSession::start();
  if (!session) {
    FAIL() << session.error().describe();
  }
  session_ = std::move(*session);
}

void SandboxTest::TearDown() {
  if (session_ && HasFailure()) std::cerr << session_->diagnostics() << "\n";
  session_.reset();
}

void SharedSandboxTest::SetUpTestSuite() {
  if (::geteuid() != 0) return;
  Result<std::unique_ptr<SandboxSession>> session = SandboxSession::start();
  if (session) {
    session_ = std::move(*session);
  } else {
    start_error_ = session.error().describe();
  }
}

void SharedSandboxTest::TearDownTestSuite() {
  session_.reset();
  start_error_.clear();
}

void SharedSandboxTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << kNeedsRoot;
  if (!session_) FAIL() << start_error_;
}

void SharedSandboxTest::TearDown() {
  if (session_ && HasFailure()) std::cerr << session_->diagnostics() << "\n";
}

}  // namespace hivemind::testing
