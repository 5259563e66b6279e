#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <pugixml.hpp>
#include <sstream>

#include "aws/curl_transport.h"
#include "common/strings.h"

namespace hivemind::testing {

struct ProxyExchange {
  std::string method;
  std::string target;
  aws::HeaderList headers;
  std::string body;
  std::string service;        // from the SigV4 credential scope: "ec2", "rds", ...
  std::string access_key_id;  // from the same scope
  std::string action;         // "RunInstances", "DescribeLogGroups", ...
  bool json = false;          // JSON 1.1 rather than a query protocol
};

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kPollMilliseconds = 50;
constexpr auto kRequestReadTimeout = 10s;
constexpr auto kDrainTimeout = 30s;

int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 64) != 0 ||
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

// Closes with an RST rather than a FIN, as a dropped connection looks.
void close_with_reset(int fd) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
}

std::string header_value(const aws::HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return "";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

// Returns the value of `name` in a form-encoded query protocol body.
std::string form_value(const std::string& body, std::string_view name) {
  for (const std::string& pair : split(body, '&')) {
    const std::size_t equals = pair.find('=');
    if (equals != std::string::npos && form_decode(pair.substr(0, equals)) == name) {
      return form_decode(pair.substr(equals + 1));
    }
  }
  return "";
}

// Reads one request: the head up to the blank line, then Content-Length
// bytes of body. Returns false when the peer closes or the proxy stops.
bool read_request(int fd, const std::atomic<bool>& stopping, std::string& method, std::string& target,
                  aws::HeaderList& headers, std::string& body) {
  std::string data;
  std::size_t head_end = std::string::npos;
  std::size_t body_length = 0;
  const auto deadline = Clock::now() + kRequestReadTimeout;
  char buffer[16384];

  while (head_end == std::string::npos || data.size() < head_end + 4 + body_length) {
    if (Clock::now() > deadline || !wait_readable(fd, stopping)) return false;
    const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
    if (received <= 0) return false;
    data.append(buffer, static_cast<std::size_t>(received));
    if (head_end != std::string::npos || (head_end = data.find("\r\n\r\n")) == std::string::npos) continue;

    const std::vector<std::string> lines = split(std::string_view(data).substr(0, head_end), '\n');
    const std::vector<std::string> request_line = split(trim(lines[0]), ' ');
    method = request_line[0];
    target = request_line.size() > 1 ? request_line[1] : "/";
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const std::size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      headers.emplace_back(trim(lines[i].substr(0, colon)), trim(lines[i].substr(colon + 1)));
      if (iequals(headers.back().first, "Content-Length")) {
        body_length = std::strtoull(headers.back().second.c_str(), nullptr, 10);
      }
    }
  }
  body = data.substr(head_end + 4, body_length);
  return true;
}

// Fills service, key id, action and protocol from the signed request, whose
// Authorization header carries "Credential=<key>/<date>/<region>/<service>/...".
void describe_exchange(ProxyExchange& exchange) {
  const std::string authorization = header_value(exchange.headers, "Authorization");
  const std::size_t credential = authorization.find("Credential=");
  if (credential != std::string::npos) {
    const std::size_t end = authorization.find_first_of(", ", credential);
    const std::vector<std::string> scope =
        split(authorization.substr(credential + 11, end == std::string::npos ? end : end - credential - 11), '/');
    if (!scope.empty()) exchange.access_key_id = scope[0];
    if (scope.size() > 3) exchange.service = scope[3];
  }

  const std::string target = header_value(exchange.headers, "X-Amz-Target");
  exchange.json = !target.empty();
  if (exchange.json) {
    const std::size_t dot = target.rfind('.');
    exchange.action = dot == std::string::npos ? target : target.substr(dot + 1);
  } else {
    exchange.action = form_value(exchange.body, "Action");
  }
}

std::string response_head(int status, const aws::HeaderList& headers, std::size_t content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " Proxied\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  return head + "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

bool is_hop_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Connection") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Content-Encoding") || iequals(name, "Keep-Alive") || iequals(name, "Host") ||
         iequals(name, "Expect") || iequals(name, "Accept-Encoding");
}

aws::HeaderList end_to_end_headers(const aws::HeaderList& headers) {
  aws::HeaderList kept;
  for (const auto& header : headers) {
    if (!is_hop_header(header.first)) kept.push_back(header);
  }
  return kept;
}

// Calls `visit` on every element below `node` named `name`.
void for_each_named(pugi::xml_node node, const char* name, const std::function<void(pugi::xml_node)>& visit) {
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (std::string_view(child.name()) == name) visit(child);
    for_each_named(child, name, visit);
  }
}

void set_text(pugi::xml_node node, const char* child, const char* value) {
  pugi::xml_node target = node.child(child);
  if (!target) target = node.append_child(child);
  target.text().set(value);
}

std::string serialize(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw);
  return out.str();
}

struct ErrorReply {
  int status;
  aws::HeaderList headers;
  std::string body;
};

// An error in the shape the request's protocol uses: EC2's <Response><Errors>,
// the query protocol's <ErrorResponse>, or a JSON 1.1 "__type" document.
ErrorReply protocol_error(const ProxyExchange& exchange, int status, const std::string& code,
                          const std::string& message) {
  const std::string request_id = "fault-proxy-" + code;
  if (exchange.json) {
    return {status,
            {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-RequestId", request_id}},
            R"({"__type":")" + code + R"(","message":")" + message + R"("})"};
  }
  if (exchange.service == "ec2") {
    return {status,
            {{"Content-Type", "text/xml;charset=UTF-8"}},
            R"(<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>)" + code + "</Code><Message>" +
                message + "</Message></Error></Errors><RequestID>" + request_id + "</RequestID></Response>"};
  }
  return {status,
          {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", request_id}},
          "<ErrorResponse><Error><Type>" + std::string(status >= 500 ? "Receiver" : "Sender") + "</Type><Code>" + code +
              "</Code><Message>" + message + "</Message></Error><RequestId>" + request_id +
              "</RequestId></ErrorResponse>"};
}

// The throttling error each protocol's services send when a caller is too fast.
ErrorReply throttling_error(const ProxyExchange& exchange) {
  if (exchange.json) return protocol_error(exchange, 400, "ThrottlingException", "Rate exceeded");
  if (exchange.service == "ec2")
    return protocol_error(exchange, 503, "RequestLimitExceeded", "Request limit exceeded.");
  return protocol_error(exchange, 400, "Throttling", "Rate exceeded");
}

ErrorReply server_error(const ProxyExchange& exchange, int status) {
  if (status == 503) {
    return protocol_error(exchange, 503, exchange.service == "ec2" ? "Unavailable" : "ServiceUnavailable",
                          "The service is unavailable. Please try again shortly.");
  }
  return protocol_error(exchange, 500, exchange.service == "ec2" ? "InternalError" : "InternalFailure",
                        "An internal error has occurred.");
}

ErrorReply expired_token_error(const ProxyExchange& exchange) {
  if (exchange.json)
    return protocol_error(exchange, 400, "ExpiredTokenException",
                          "The security token included in the request is expired");
  return protocol_error(exchange, exchange.service == "ec2" ? 400 : 403, "ExpiredToken",
                        "The security token included in the request is expired");
}

void send_reply(int fd, int status, const aws::HeaderList& headers, const std::string& body) {
  send_all(fd, response_head(status, headers, body.size()) + body);
  ::close(fd);
}

bool still_pending(const std::map<std::string, FaultProxy::Pending>& table, const std::string& id) {
  auto found = table.find(id);
  return found != table.end() && Clock::now() < found->second.ready_at;
}

}  // namespace

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kThrottle:
      return "throttle";
    case FaultKind::kServerError:
      return "500";
    case FaultKind::kUnavailable:
      return "503";
    case FaultKind::kTruncate:
      return "truncate";
    case FaultKind::kResetBefore:
      return "reset before forwarding";
    case FaultKind::kResetAfter:
      return "reset after forwarding";
  }
  return "unknown";
}

FaultProxy::FaultProxy(std::string upstream, FaultOptions options)
    : upstream_(std::move(upstream)), options_(std::move(options)), random_(options_.seed) {
  listen_fd_ = listen_on_loopback(port_);
  if (listen_fd_ >= 0) accept_thread_ = std::thread([this] { serve(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  const auto deadline = Clock::now() + kDrainTimeout;
  while (active_connections_.load() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
}

std::string FaultProxy::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::expire_access_key(const std::string& access_key_id, int calls) {
  std::lock_guard lock(mutex_);
  expired_key_ = access_key_id;
  calls_until_expiry_ = calls;
}

std::map<FaultKind, int> FaultProxy::fault_counts() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

void FaultProxy::serve() {
  while (wait_readable(listen_fd_, stopping_)) {
    const int connection = ::accept(listen_fd_, nullptr, nullptr);
    if (connection < 0) continue;
    ++active_connections_;
    std::thread([this, connection] {
      handle(connection);
      --active_connections_;
    }).detach();
  }
}

void FaultProxy::handle(int connection) {
  ProxyExchange exchange;
  if (!read_request(connection, stopping_, exchange.method, exchange.target, exchange.headers, exchange.body)) {
    ::close(connection);
    return;
  }
  describe_exchange(exchange);
  ++requests_;
  reply(connection, exchange);
}

void FaultProxy::reply(int connection, ProxyExchange& exchange) {
  if (is_expired(exchange)) {
    ++expired_;
    ErrorReply error = expired_token_error(exchange);
    send_reply(connection, error.status, error.headers, error.body);
    return;
  }

  FaultKind fault = FaultKind::kDelay;
  const bool faulted = exchange.target.rfind("/moto-api", 0) != 0 && pick_fault(fault);
  if (faulted &&
      (fault == FaultKind::kThrottle || fault == FaultKind::kServerError || fault == FaultKind::kUnavailable)) {
    ErrorReply error = fault == FaultKind::kThrottle      ? throttling_error(exchange)
                       : fault == FaultKind::kServerError ? server_error(exchange, 500)
                                                          : server_error(exchange, 503);
    send_reply(connection, error.status, error.headers, error.body);
    return;
  }
  if (faulted && fault == FaultKind::kResetBefore) {
    close_with_reset(connection);
    return;
  }

  // Forward to moto.
  aws::HttpRequest forwarded{exchange.method, upstream_ + exchange.target, end_to_end_headers(exchange.headers),
                             exchange.body};
  auto sent = aws::CurlTransport().send(forwarded, aws::TransportOptions{});
  ++forwarded_;
  if (!sent) {
    close_with_reset(connection);
    return;
  }
  aws::HttpResponse response = std::move(*sent);
  if (options_.latency.scale > 0) {
    note_created(exchange, response);
    rewrite_describe(exchange, response);
  }
  const aws::HeaderList headers = end_to_end_headers(response.headers);

  if (faulted && fault == FaultKind::kResetAfter) {
    close_with_reset(connection);
    return;
  }
  if (faulted && fault == FaultKind::kTruncate) {
    // Announce the whole length, send half, and close: the client sees a
    // short body after the work was done.
    send_all(connection, response_head(response.status, headers, response.body.size()) +
                             response.body.substr(0, response.body.size() / 2));
    close_with_reset(connection);
    return;
  }
  if (faulted && fault == FaultKind::kDelay) std::this_thread::sleep_for(options_.delay);
  send_reply(connection, response.status, headers, response.body);
}

bool FaultProxy::pick_fault(FaultKind& kind) {
  if (options_.rate <= 0 || options_.kinds.empty()) return false;
  std::lock_guard lock(mutex_);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  if (chance(random_) >= options_.rate) return false;
  std::uniform_int_distribution<std::size_t> pick(0, options_.kinds.size() - 1);
  kind = options_.kinds[pick(random_)];
  ++faults_[kind];
  return true;
}

bool FaultProxy::is_expired(const ProxyExchange& exchange) {
  std::lock_guard lock(mutex_);
  if (calls_until_expiry_ < 0) return false;
  if (calls_until_expiry_ > 0) {
    --calls_until_expiry_;
    return false;
  }
  return exchange.access_key_id == expired_key_;
}

Clock::time_point FaultProxy::ready_time(std::chrono::milliseconds base) const {
  const auto scaled = std::chrono::duration<double, std::milli>(base.count() * options_.latency.scale);
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(scaled);
}

// Starts the clock of each instance, load balancer or DB instance that a
// successful create or delete call returned.
void FaultProxy::note_created(const ProxyExchange& exchange, const aws::HttpResponse& response) {
  if (response.status != 200) return;
  const LatencyProfile& profile = options_.latency;
  std::map<std::string, Pending>* table = nullptr;
  const char* id_element = nullptr;
  std::chrono::milliseconds base{0};
  if (exchange.service == "ec2" && exchange.action == "RunInstances") {
    table = &creating_, id_element = "instanceId", base = profile.instance_running;
  } else if (exchange.service == "ec2" && exchange.action == "TerminateInstances") {
    table = &deleting_, id_element = "instanceId", base = profile.instance_terminated;
  } else if (exchange.service == "elasticloadbalancing" && exchange.action == "CreateLoadBalancer") {
    table = &creating_, id_element = "LoadBalancerArn", base = profile.load_balancer_active;
  } else if (exchange.service == "rds" && exchange.action == "CreateDBInstance") {
    table = &creating_, id_element = "DBInstanceIdentifier", base = profile.db_instance_available;
  } else if (exchange.service == "rds" && exchange.action == "DeleteDBInstance") {
    table = &deleting_, id_element = "DBInstanceIdentifier", base = profile.db_instance_deleted;
  } else {
    return;
  }

  pugi::xml_document document;
  if (!document.load_string(response.body.c_str())) return;
  std::lock_guard lock(mutex_);
  for_each_named(document, id_element,
                 [&](pugi::xml_node node) { (*table)[node.text().as_string()] = Pending{ready_time(base)}; });
  // A deleted DB instance drops out of moto at once; keep its last
  // description to show as "deleting" until its time is up.
  if (table == &deleting_ && exchange.service == "rds") {
    for_each_named(document, "DBInstance", [&](pugi::xml_node node) {
      std::ostringstream item;
      node.print(item, "", pugi::format_raw);
      db_items_[node.child("DBInstanceIdentifier").text().as_string()] = item.str();
    });
  }
}

// Rewrites the state of resources whose ready time has not come in
// DescribeInstances, DescribeLoadBalancers and DescribeDBInstances responses.
void FaultProxy::rewrite_describe(const ProxyExchange& exchange, aws::HttpResponse& response) {
  const bool instances = exchange.service == "ec2" && exchange.action == "DescribeInstances";
  const bool balancers = exchange.service == "elasticloadbalancing" && exchange.action == "DescribeLoadBalancers";
  const bool databases = exchange.service == "rds" && exchange.action == "DescribeDBInstances";
  if (!instances && !balancers && !databases) return;

  std::lock_guard lock(mutex_);
  const std::string requested_db = databases ? form_value(exchange.body, "DBInstanceIdentifier") : "";
  if (databases && response.status != 200 && still_pending(deleting_, requested_db) &&
      db_items_.count(requested_db) != 0) {
    response.status = 200;
    response.headers = {{"Content-Type", "text/xml"}};
    response.body =
        R"(<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances>)" +
        db_items_[requested_db] +
        "</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>fault-proxy-deleting</RequestId>"
        "</ResponseMetadata></DescribeDBInstancesResponse>";
  }
  if (response.status != 200) return;

  pugi::xml_document document;
  if (!document.load_string(response.body.c_str(), pugi::parse_default | pugi::parse_declaration)) return;
  if (instances) {
    for_each_named(document, "instanceState", [&](pugi::xml_node state) {
      const std::string id = state.parent().child("instanceId").text().as_string();
      const std::string name = state.child("name").text().as_string();
      if (still_pending(creating_, id) && name == "running") {
        set_text(state, "code", "0"), set_text(state, "name", "pending");
      } else if (still_pending(deleting_, id) && name == "terminated") {
        set_text(state, "code", "32"), set_text(state, "name", "shutting-down");
      }
    });
  } else if (balancers) {
    for_each_named(document, "LoadBalancerArn", [&](pugi::xml_node arn) {
      pugi::xml_node state = arn.parent().child("State");
      if (state && still_pending(creating_, arn.text().as_string())) set_text(state, "Code", "provisioning");
    });
  } else {
    for_each_named(document, "DBInstanceStatus", [&](pugi::xml_node status) {
      const std::string id = status.parent().child("DBInstanceIdentifier").text().as_string();
      if (still_pending(creating_, id)) status.text().set("creating");
      if (still_pending(deleting_, id)) status.text().set("deleting");
    });
  }
  response.body = serialize(document);
}

}  // namespace hivemind::testing
