#include "support/imds_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "common/strings.h"

namespace hivemind::testing {

namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr int kPollMilliseconds = 50;

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    default:
      return "Status";
  }
}

// Reads until the end of the request head ("\r\n\r\n") and the body that
// Content-Length announces. Returns "" on a closed or oversized connection.
std::string read_request(int connection) {
  std::string data;
  char buffer[4096];
  size_t head_end = std::string::npos;
  size_t body_length = 0;
  while (data.size() < kMaxRequestBytes) {
    if (head_end != std::string::npos && data.size() >= head_end + 4 + body_length) return data;
    ssize_t received = ::recv(connection, buffer, sizeof(buffer), 0);
    if (received <= 0) return {};
    data.append(buffer, static_cast<size_t>(received));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string lower_head = to_lower(data.substr(0, head_end));
      size_t length_at = lower_head.find("\r\ncontent-length:");
      if (length_at != std::string::npos) body_length = std::stoul(lower_head.substr(length_at + 17));
    }
  }
  return {};
}

RecordedRequest parse_head(const std::string& data) {
  RecordedRequest request;
  std::vector<std::string> lines = split(data.substr(0, data.find("\r\n\r\n")), '\n');
  std::vector<std::string> request_line = split(trim(lines.front()), ' ');
  if (request_line.size() >= 2) {
    request.method = request_line[0];
    request.path = request_line[1];
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    request.headers.emplace_back(trim(lines[i].substr(0, colon)), trim(lines[i].substr(colon + 1)));
  }
  return request;
}

void send_all(int connection, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t written = ::send(connection, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (written <= 0) return;
    sent += static_cast<size_t>(written);
  }
}

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

ImdsServer::ImdsServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket failed: ") + std::strerror(errno));

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("binding 127.0.0.1 failed: ") + std::strerror(errno));
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

ImdsServer::~ImdsServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  thread_.join();
  ::close(listen_fd_);
}

std::string ImdsServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void ImdsServer::set_response(const std::string& method, const std::string& path, CannedResponse response) {
  std::lock_guard lock(mutex_);
  responses_[method + " " + path] = std::move(response);
}

void ImdsServer::serve_role(const std::string& role, const std::string& access_key_id,
                            const std::string& secret_access_key, const std::string& token,
                            const std::string& expiration) {
  const std::string session = "test-imds-token";
  set_response("PUT", "/latest/api/token", {200, session, ""});
  set_response("GET", "/latest/meta-data/iam/security-credentials/", {200, role + "\n", session});
  std::string document = R"({"Code":"Success","LastUpdated":"2026-12-04T20:00:00Z","Type":"AWS-HMAC",)"
                         R"("AccessKeyId":")" +
                         access_key_id + R"(","SecretAccessKey":")" + secret_access_key + R"(","Token":")" + token +
                         R"(","Expiration":")" + expiration + R"("})";
  set_response("GET", "/latest/meta-data/iam/security-credentials/" + role, {200, document, session});
}

std::vector<RecordedRequest> ImdsServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ImdsServer::serve() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMilliseconds) <= 0) continue;
    int connection = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    handle(connection);
    ::close(connection);
  }
}

void ImdsServer::handle(int connection) {
  timeval timeout{5, 0};
  ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string data = read_request(connection);
  if (data.empty()) return;

  RecordedRequest request = parse_head(data);
  CannedResponse response{404, "not found", ""};
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    auto found = responses_.find(request.method + " " + request.path);
    if (found != responses_.end()) response = found->second;
  }
  if (!response.required_token.empty() && request.header("X-aws-ec2-metadata-token") != response.required_token) {
    response = {401, "missing or wrong token", ""};
  }

  std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + response.body;
  send_all(connection, reply);
}

}  // namespace hivemind::testing
