#pragma once

// A stand-in for the EC2 instance metadata service on a free 127.0.0.1 port:
// a small HTTP/1.1 server that returns canned responses by method and path
// and records every request it receives. It serves one connection at a time
// on its own thread, closes each connection after one response, and stops in
// the destructor.

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hivemind::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;

  // Returns the first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

struct CannedResponse {
  int status = 200;
  std::string body;
  // When set, only requests carrying this X-aws-ec2-metadata-token get the
  // canned response; others get 401, as IMDSv2 returns.
  std::string required_token;
};

class ImdsServer {
 public:
  // Binds 127.0.0.1 on a free port and starts serving. Throws
  // std::runtime_error when the socket cannot be set up.
  ImdsServer();
  ~ImdsServer();
  ImdsServer(const ImdsServer&) = delete;
  ImdsServer& operator=(const ImdsServer&) = delete;

  // "http://127.0.0.1:<port>"
  std::string endpoint() const;

  // Answers `method path` with `response`; unknown paths get 404.
  void set_response(const std::string& method, const std::string& path, CannedResponse response);

  // Sets up a working IMDSv2 with role `role` and the given keys: token
  // "test-imds-token", role list, and the role's credentials document.
  void serve_role(const std::string& role, const std::string& access_key_id, const std::string& secret_access_key,
                  const std::string& token, const std::string& expiration);

  std::vector<RecordedRequest> requests() const;

 private:
  void serve();
  void handle(int connection);

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, CannedResponse> responses_;  // guarded by mutex_; key "METHOD path"
  std::vector<RecordedRequest> requests_;            // guarded by mutex_
  bool stopping_ = false;                            // guarded by mutex_
};

}  // namespace hivemind::testing
