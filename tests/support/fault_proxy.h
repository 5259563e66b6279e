#pragma once

// FaultProxy: an HTTP/1.1 proxy on 127.0.0.1 in front of moto_server that
// makes the emulator behave more like AWS under stress. It forwards each
// request and can, at a chosen rate, delay the reply, answer a throttling
// error in the service's own protocol, answer 500 or 503, truncate the
// body, or reset the connection (before forwarding, or after moto did the
// work, which is the case that makes duplicates). It can also play a latency
// profile: instances, load balancers and DB instances created through it stay
// pending/provisioning/creating in describe responses until their ready time.
//
// Every choice comes from a generator seeded with `seed`, so a failing run can
// be replayed. NOTE: with several client threads the order in which requests
// arrive varies, so only a single-threaded client replays exactly.
//
// Thread safe: each connection is served on its own thread, and tests may
// read the counters while requests are in flight.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aws/http.h"

namespace hivemind::testing {

struct ProxyExchange;

// How long resources take on AWS, before scaling. These are estimates of
// typical times in us-east-1, not measurements.
struct LatencyProfile {
  double scale = 0.0;  // 0 turns the profile off; 0.02 makes 7 minutes about 8 seconds
  std::chrono::milliseconds instance_running{30'000};
  std::chrono::milliseconds instance_terminated{40'000};
  std::chrono::milliseconds load_balancer_active{180'000};
  std::chrono::milliseconds db_instance_available{420'000};
  std::chrono::milliseconds db_instance_deleted{300'000};
};

enum class FaultKind {
  kDelay,        // forward, then hold the reply for `delay`
  kThrottle,     // RequestLimitExceeded, Throttling or ThrottlingException
  kServerError,  // 500 InternalError, not forwarded
  kUnavailable,  // 503 ServiceUnavailable, not forwarded
  kTruncate,     // forward, then send half the body and close
  kResetBefore,  // reset the connection without forwarding
  kResetAfter,   // forward, then reset: moto did the work, the client never learns
};

const char* fault_name(FaultKind kind);

struct FaultOptions {
  unsigned seed = 1;
  double rate = 0.0;  // share of requests that get a fault, 0 to 1
  std::vector<FaultKind> kinds = {FaultKind::kDelay,       FaultKind::kThrottle, FaultKind::kServerError,
                                  FaultKind::kUnavailable, FaultKind::kTruncate, FaultKind::kResetBefore,
                                  FaultKind::kResetAfter};
  std::chrono::milliseconds delay{200};
  LatencyProfile latency;
};

class FaultProxy {
 public:
  // Listens on a free 127.0.0.1 port and forwards to `upstream`, which must
  // be a loopback URL such as "http://127.0.0.1:5000".
  FaultProxy(std::string upstream, FaultOptions options);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  bool listening() const { return listen_fd_ >= 0; }
  std::string endpoint() const;  // "http://127.0.0.1:<port>"
  unsigned seed() const { return options_.seed; }

  // Once `calls` more requests have passed, every request signed with
  // `access_key_id` gets an ExpiredToken error (ExpiredTokenException in
  // JSON 1.1) instead of being forwarded. Other keys pass.
  void expire_access_key(const std::string& access_key_id, int calls);

  // Requests received, faults injected per kind, and requests that reached moto.
  int request_count() const { return requests_.load(); }
  int forwarded_count() const { return forwarded_.load(); }
  std::map<FaultKind, int> fault_counts() const;
  int expired_count() const { return expired_.load(); }

  // When a resource created or deleted through the proxy is ready.
  struct Pending {
    std::chrono::steady_clock::time_point ready_at;
  };

 private:
  void serve();
  void handle(int connection);
  void reply(int connection, ProxyExchange& exchange);
  bool pick_fault(FaultKind& kind);
  bool is_expired(const ProxyExchange& exchange);
  void note_created(const ProxyExchange& exchange, const aws::HttpResponse& response);
  void rewrite_describe(const ProxyExchange& exchange, aws::HttpResponse& response);
  std::chrono::steady_clock::time_point ready_time(std::chrono::milliseconds base) const;

  std::string upstream_;
  FaultOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::atomic<int> requests_{0};
  std::atomic<int> forwarded_{0};
  std::atomic<int> expired_{0};
  std::atomic<int> active_connections_{0};

  mutable std::mutex mutex_;
  std::mt19937_64 random_;                       // guarded by mutex_
  std::map<FaultKind, int> faults_;              // guarded by mutex_
  std::string expired_key_;                      // guarded by mutex_
  int calls_until_expiry_ = -1;                  // guarded by mutex_
  std::map<std::string, Pending> creating_;      // by resource id; guarded by mutex_
  std::map<std::string, Pending> deleting_;      // by resource id; guarded by mutex_
  std::map<std::string, std::string> db_items_;  // last <DBInstance> XML by id; guarded by mutex_
};

}  // namespace hivemind::testing
