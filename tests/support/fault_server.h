#pragma once

// FaultServer: a small HTTP/1.1 server on 127.0.0.1 that replies to each
// request with the next scripted reply: an AWS error, a 5xx page, a reset
// connection, a truncated body, silence, or a body of many megabytes. Tests
// use it to drive the client's retries and failure handling through a real
// socket and the real libcurl transport.
//
// One connection is served at a time, each closed after its reply. Thread
// safe: tests push replies and read the log while the server thread runs.

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/client.h"
#include "aws/http.h"

namespace hivemind::testing {

struct ScriptedReply {
  enum class Kind {
    kRespond,       // status, headers and body as given
    kReset,         // close the connection without a reply
    kTruncate,      // announce the whole body's length, send half, close
    kHang,          // read the request and never reply
    kLarge,         // 200 with `large_bytes` of body and a Content-Length
    kLargeUnsized,  // 200 with `large_bytes` of body ended by closing
  };

  Kind kind = Kind::kRespond;
  int status = 200;
  aws::HeaderList headers;
  std::string body;
  std::size_t large_bytes = 0;

  static ScriptedReply respond(int status, std::string body, aws::HeaderList headers = {});
  // A JSON 1.1 error: {"__type": "<prefix>#<code>", "message": ...}.
  static ScriptedReply json_error(int status, const std::string& code, const std::string& message = "scripted");
  // An AWS query protocol <ErrorResponse>.
  static ScriptedReply query_error(int status, const std::string& code, const std::string& message = "scripted");
  static ScriptedReply reset();
  static ScriptedReply truncated(int status, std::string body);
  static ScriptedReply hang();
  static ScriptedReply large(std::size_t bytes, bool with_length = true);
};

struct ReceivedRequest {
  std::string method;
  std::string target;  // path and query, as on the request line
  aws::HeaderList headers;
  std::string body;
};

class FaultServer {
 public:
  // Listens on a free 127.0.0.1 port. Until something is pushed, every
  // request gets the default reply, an empty 200.
  FaultServer();
  ~FaultServer();
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  // Queues `reply` for the next `times` requests.
  void push(const ScriptedReply& reply, int times = 1);
  // The reply once the queue is empty.
  void set_default(const ScriptedReply& reply);

  std::string endpoint() const;  // "http://127.0.0.1:<port>"
  int request_count() const;
  std::vector<ReceivedRequest> requests() const;

 private:
  void serve();
  void handle(int connection);
  ScriptedReply next_reply();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable std::mutex mutex_;
  std::deque<ScriptedReply> queue_;        // guarded by mutex_
  ScriptedReply default_reply_;            // guarded by mutex_
  std::vector<ReceivedRequest> received_;  // guarded by mutex_
};

// A client config that sends every service to `endpoint` with dummy
// credentials and records each backoff wait in `sleeps` instead of sleeping.
aws::ClientConfig loopback_client_config(const std::string& endpoint,
                                         std::vector<std::chrono::milliseconds>* sleeps = nullptr);

// A loopback port that nothing listens on, for connection-refused tests.
int closed_loopback_port();

}  // namespace hivemind::testing
