#include "support/moto_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "aws/curl_transport.h"

namespace hivemind::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kStartupTimeout = 60s;
constexpr int kStartTries = 3;

// Returns a port that was free a moment ago. Another process may take it
// before moto binds it; start() then tries again with a new one.
int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// Runs in the forked child: never returns.
[[noreturn]] void exec_moto(int port, const MotoOptions& options, pid_t parent) {
  ::setpgid(0, 0);
  // SIGKILL when the test program dies, whatever the way. The check after
  // prctl covers a parent that died before the call.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);

  // moto logs every request; the tests read none of it.
  const int null_fd = ::open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
  }
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  if (options.initial_no_auth_action_count) {
    ::setenv("INITIAL_NO_AUTH_ACTION_COUNT", std::to_string(*options.initial_no_auth_action_count).c_str(), 1);
  } else {
    ::unsetenv("INITIAL_NO_AUTH_ACTION_COUNT");
  }
  const std::string port_text = std::to_string(port);
  ::execlp("moto_server", "moto_server", "-H", "127.0.0.1", "-p", port_text.c_str(), static_cast<char*>(nullptr));
  ::_exit(127);
}

bool answers_http(const std::string& endpoint) {
  aws::CurlTransport transport;
  aws::TransportOptions options;
  options.connect_timeout = 500ms;
  options.total_timeout = 5s;
  aws::HttpRequest request;
  request.method = "GET";
  request.url = endpoint + "/moto-api/";
  auto response = transport.send(request, options);
  return response.ok() && response->status > 0;
}

bool has_exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// Protects the whole test program from real AWS: anything that resolves
// settings from the environment finds dummy keys and the emulator.
void use_dummy_environment(const std::string& endpoint) {
  ::setenv("AWS_ACCESS_KEY_ID", dummy_credentials().access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", dummy_credentials().secret_access_key.c_str(), 1);
  ::setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_ENDPOINT_URL", endpoint.c_str(), 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
}

[[noreturn]] void refuse_endpoint(const std::string& url) {
  std::fprintf(stderr, "moto_server fixture: refusing non-loopback AWS endpoint '%s'\n", url.c_str());
  std::abort();
}

}  // namespace

aws::Credentials dummy_credentials() { return aws::Credentials{"testing", "testing", "", "test fixture"}; }

bool is_loopback_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);

  if (rest.starts_with("[::1]")) return rest.size() == 5 || rest[5] == ':';
  const std::string_view host = rest.substr(0, rest.find(':'));
  if (host == "localhost") return true;

  in_addr address{};
  if (::inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) return false;
  return (ntohl(address.s_addr) >> 24) == 127;
}

std::unique_ptr<MotoServer> MotoServer::start(const MotoOptions& options) {
  for (int attempt = 0; attempt < kStartTries; ++attempt) {
    const int port = pick_free_port();
    if (port == 0) continue;

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) break;
    if (pid == 0) exec_moto(port, options, parent);

    std::unique_ptr<MotoServer> server(new MotoServer(pid, port));
    const auto deadline = std::chrono::steady_clock::now() + kStartupTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (has_exited(pid)) {
        server->pid_ = 0;  // reaped already; most likely the port was taken
        break;
      }
      if (answers_http(server->endpoint())) return server;
      std::this_thread::sleep_for(100ms);
    }
  }
  ADD_FAILURE() << "moto_server did not start on 127.0.0.1 (is it installed and on PATH?)";
  return nullptr;
}

MotoServer::~MotoServer() { stop(); }

void MotoServer::stop() {
  if (pid_ <= 0) return;
  ::killpg(pid_, SIGTERM);
  for (int i = 0; i < 50 && !has_exited(pid_); ++i) std::this_thread::sleep_for(100ms);
  if (::kill(pid_, 0) == 0) {
    ::killpg(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = 0;
}

std::string MotoServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool MotoServer::reset() {
  aws::CurlTransport transport;
  aws::HttpRequest request;
  request.method = "POST";
  request.url = endpoint() + "/moto-api/reset";
  auto response = transport.send(request, aws::TransportOptions{});
  return response.ok() && response->status == 200;
}

aws::ClientConfig MotoServer::client_config() const {
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.credentials = dummy_credentials();
  const std::string url = endpoint();
  config.endpoint_for = [url](const aws::ServiceSpec&) { return url; };
  config.sleep = [](std::chrono::milliseconds) {};
  config.transport.connect_timeout = 2s;
  config.transport.total_timeout = 30s;
  return config;
}

std::unique_ptr<aws::AwsClient> MotoServer::make_client() const { return make_client(client_config()); }

std::unique_ptr<aws::AwsClient> MotoServer::make_client(aws::ClientConfig config) const {
  auto inner = std::move(config.endpoint_for);
  config.endpoint_for = [inner](const aws::ServiceSpec& service) {
    std::string url = inner ? inner(service) : std::string();
    if (!is_loopback_url(url)) refuse_endpoint(url);
    return url;
  };
  return std::make_unique<aws::AwsClient>(std::move(config), std::make_shared<aws::CurlTransport>());
}

MotoServer& shared_moto() {
  // Destroyed at exit, which stops the server.
  static std::unique_ptr<MotoServer> server = [] {
    auto started = MotoServer::start();
    if (!started) {
      std::fprintf(stderr, "moto_server fixture: the shared moto_server did not start\n");
      std::abort();
    }
    use_dummy_environment(started->endpoint());
    return started;
  }();
  return *server;
}

void MotoTest::SetUp() {
  ASSERT_TRUE(moto().reset()) << "POST " << moto().endpoint() << "/moto-api/reset failed";
  client_ = moto().make_client();
}

const aws::ServiceSpec& iam_test_service() {
  static constexpr aws::ServiceSpec kIam{"iam", "iam", "iam", "2010-05-08", aws::Protocol::kQuery, "", "iam", "iam"};
  return kIam;
}

std::optional<IamUser> create_iam_user(const MotoServer& server, const std::string& user_name,
                                       const std::string& policy_document) {
  auto client = server.make_client();
  const aws::ServiceSpec& iam = iam_test_service();
  IamUser user;
  user.user_name = user_name;

  auto created_user = client->query(iam, "CreateUser", {{"UserName", user_name}});
  if (!created_user) {
    ADD_FAILURE() << created_user.error().to_error().describe();
    return std::nullopt;
  }

  auto policy =
      client->query(iam, "CreatePolicy", {{"PolicyName", user_name + "-policy"}, {"PolicyDocument", policy_document}});
  if (!policy) {
    ADD_FAILURE() << policy.error().to_error().describe();
    return std::nullopt;
  }
  user.policy_arn = policy->result.child("Policy").child("Arn").text().as_string();

  auto attached = client->query(iam, "AttachUserPolicy", {{"UserName", user_name}, {"PolicyArn", user.policy_arn}});
  if (!attached) {
    ADD_FAILURE() << attached.error().to_error().describe();
    return std::nullopt;
  }

  auto key = client->query(iam, "CreateAccessKey", {{"UserName", user_name}});
  if (!key) {
    ADD_FAILURE() << key.error().to_error().describe();
    return std::nullopt;
  }
  pugi::xml_node access_key = key->result.child("AccessKey");
  user.credentials.access_key_id = access_key.child("AccessKeyId").text().as_string();
  user.credentials.secret_access_key = access_key.child("SecretAccessKey").text().as_string();
  user.credentials.source = "IAM user " + user_name + " on moto_server";
  return user;
}

}  // namespace hivemind::testing
