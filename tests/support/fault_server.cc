#include "support/fault_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "common/strings.h"

namespace hivemind::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kPollMilliseconds = 50;
constexpr auto kRequestReadTimeout = 10s;

int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

bool wait_readable(int fd, const std::atomic<bool>& stopping) {
  pollfd entry{fd, POLLIN, 0};
  while (!stopping) {
    const int ready = ::poll(&entry, 1, kPollMilliseconds);
    if (ready > 0) return true;
    if (ready < 0) return false;
  }
  return false;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Reads one request: the head up to the blank line, then Content-Length
// bytes of body. Returns false when the peer closes or the server stops.
bool read_request(int fd, const std::atomic<bool>& stopping, ReceivedRequest& request) {
  std::string data;
  std::size_t head_end = std::string::npos;
  std::size_t body_length = 0;
  const auto deadline = std::chrono::steady_clock::now() + kRequestReadTimeout;
  char buffer[16384];

  while (head_end == std::string::npos || data.size() < head_end + 4 + body_length) {
    if (std::chrono::steady_clock::now() > deadline || !wait_readable(fd, stopping)) return false;
    const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
    if (received <= 0) return false;
    data.append(buffer, static_cast<std::size_t>(received));

    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      const std::vector<std::string> lines = split(std::string_view(data).substr(0, head_end), '\n');
      const std::vector<std::string> request_line = split(trim(lines[0]), ' ');
      request.method = request_line[0];
      request.target = request_line.size() > 1 ? request_line[1] : "";
      for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::size_t colon = lines[i].find(':');
        if (colon == std::string::npos) continue;
        request.headers.emplace_back(trim(lines[i].substr(0, colon)), trim(lines[i].substr(colon + 1)));
        if (iequals(request.headers.back().first, "Content-Length")) {
          body_length = std::strtoull(request.headers.back().second.c_str(), nullptr, 10);
        }
      }
    }
  }
  request.body = data.substr(head_end + 4, body_length);
  return true;
}

std::string response_head(int status, const aws::HeaderList& headers, const std::string* content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  if (content_length != nullptr) head += "Content-Length: " + *content_length + "\r\n";
  return head + "\r\n";
}

void send_large(int fd, std::size_t bytes, bool with_length) {
  const std::string length = std::to_string(bytes);
  if (!send_all(fd, response_head(200, {{"Content-Type", "text/xml"}}, with_length ? &length : nullptr))) return;
  const std::string chunk(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < bytes; sent += chunk.size()) {
    if (!send_all(fd, std::string_view(chunk).substr(0, std::min(chunk.size(), bytes - sent)))) return;
  }
}

// Closes with an RST instead of a FIN, the way a crashed peer or a
// middlebox does.
void close_with_reset(int fd) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
}

}  // namespace

ScriptedReply ScriptedReply::respond(int status, std::string body, aws::HeaderList headers) {
  ScriptedReply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = std::move(headers);
  return reply;
}

ScriptedReply ScriptedReply::json_error(int status, const std::string& code, const std::string& message) {
  return respond(status, R"({"__type":"com.amazonaws.scripted#)" + code + R"(","message":")" + message + R"("})",
                 {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-RequestId", "scripted-" + code}});
}

ScriptedReply ScriptedReply::query_error(int status, const std::string& code, const std::string& message) {
  return respond(status,
                 "<ErrorResponse><Error><Type>Sender</Type><Code>" + code + "</Code><Message>" + message +
                     "</Message></Error><RequestId>scripted-" + code + "</RequestId></ErrorResponse>",
                 {{"Content-Type", "text/xml"}});
}

ScriptedReply ScriptedReply::reset() {
  ScriptedReply reply;
  reply.kind = Kind::kReset;
  return reply;
}

ScriptedReply ScriptedReply::truncated(int status, std::string body) {
  ScriptedReply reply = respond(status, std::move(body));
  reply.kind = Kind::kTruncate;
  return reply;
}

ScriptedReply ScriptedReply::hang() {
  ScriptedReply reply;
  reply.kind = Kind::kHang;
  return reply;
}

ScriptedReply ScriptedReply::large(std::size_t bytes, bool with_length) {
  ScriptedReply reply;
  reply.kind = with_length ? Kind::kLarge : Kind::kLargeUnsized;
  reply.large_bytes = bytes;
  return reply;
}

FaultServer::FaultServer() {
  listen_fd_ = listen_on_loopback(port_);
  if (listen_fd_ < 0) std::abort();  // no loopback socket: nothing in this test can work
  thread_ = std::thread([this] { serve(); });
}

FaultServer::~FaultServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void FaultServer::push(const ScriptedReply& reply, int times) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < times; ++i) queue_.push_back(reply);
}

void FaultServer::set_default(const ScriptedReply& reply) {
  std::lock_guard lock(mutex_);
  default_reply_ = reply;
}

std::string FaultServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

int FaultServer::request_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(received_.size());
}

std::vector<ReceivedRequest> FaultServer::requests() const {
  std::lock_guard lock(mutex_);
  return received_;
}

ScriptedReply FaultServer::next_reply() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return default_reply_;
  ScriptedReply reply = std::move(queue_.front());
  queue_.pop_front();
  return reply;
}

void FaultServer::serve() {
  while (!stopping_) {
    if (!wait_readable(listen_fd_, stopping_)) continue;
    const int connection = ::accept(listen_fd_, nullptr, nullptr);
    if (connection < 0) continue;
    handle(connection);
  }
}

void FaultServer::handle(int connection) {
  ReceivedRequest request;
  if (!read_request(connection, stopping_, request)) {
    ::close(connection);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    received_.push_back(request);
  }

  const ScriptedReply reply = next_reply();
  switch (reply.kind) {
    case ScriptedReply::Kind::kRespond: {
      const std::string length = std::to_string(reply.body.size());
      send_all(connection, response_head(reply.status, reply.headers, &length) + reply.body);
      break;
    }
    case ScriptedReply::Kind::kReset:
      close_with_reset(connection);
      return;
    case ScriptedReply::Kind::kTruncate: {
      const std::string length = std::to_string(reply.body.size());
      send_all(connection,
               response_head(reply.status, reply.headers, &length) + reply.body.substr(0, reply.body.size() / 2));
      break;
    }
    case ScriptedReply::Kind::kHang: {
      // Wait until the client gives up and closes, or the server stops.
      char byte;
      while (wait_readable(connection, stopping_) && ::recv(connection, &byte, 1, 0) > 0) {
      }
      break;
    }
    case ScriptedReply::Kind::kLarge:
    case ScriptedReply::Kind::kLargeUnsized:
      send_large(connection, reply.large_bytes, reply.kind == ScriptedReply::Kind::kLarge);
      break;
  }
  ::close(connection);
}

aws::ClientConfig loopback_client_config(const std::string& endpoint, std::vector<std::chrono::milliseconds>* sleeps) {
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.credentials = aws::Credentials{"testing", "testing", "", "test fixture"};
  config.endpoint_for = [endpoint](const aws::ServiceSpec&) { return endpoint; };
  config.sleep = [sleeps](std::chrono::milliseconds wait) {
    if (sleeps != nullptr) sleeps->push_back(wait);
  };
  config.random_seed = 7;
  config.transport.connect_timeout = 2s;
  config.transport.total_timeout = 10s;
  return config;
}

int closed_loopback_port() {
  int port = 0;
  const int fd = listen_on_loopback(port);
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace hivemind::testing
