#pragma once

// Retries in the AWS SDKs' "standard" mode, split into three parts that can
// be tested alone: classify (is this failure worth another attempt?), delay
// (how long to wait before it) and the loop that sends, waits and gives up.

#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <string_view>

#include "aws/error.h"

namespace hivemind::aws {

enum class RetryClass {
  kNotRetryable,
  kThrottling,  // the service asked the caller to slow down
  kTransient,   // a server fault or a lost connection that may not happen again
};

// True for the error codes that AWS services use to ask callers to slow down.
bool is_throttling_code(std::string_view code);
// True for the error codes of a transient server fault.
bool is_transient_code(std::string_view code);

// Classifies a failed attempt. Throttling codes win over the HTTP status, so
// a 400 Throttling is retried; 500/502/503/504 and refused, reset or timed
// out connections are transient. DNS, TLS, oversized responses, credential
// problems and every other service error are final.
RetryClass classify(const AwsError& error);

// Full-jitter exponential backoff: the wait before retry number `retry_index`
// (0 for the first retry) is uniform in [0, min(max, base * 2^retry_index)].
// Thread safe: the random generator is guarded by a mutex.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, unsigned seed);

  std::chrono::milliseconds delay(int retry_index);
  // The upper bound of delay(retry_index), without the randomness.
  std::chrono::milliseconds ceiling(int retry_index) const;

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::mutex mutex_;
  std::mt19937_64 random_;  // guarded by mutex_
};

struct RetryPolicy {
  int max_attempts = 3;  // total sends, the first one included; at least 1
  Backoff* backoff = nullptr;
  std::function<void(std::chrono::milliseconds)> sleep;
  // Called before each wait with the failure, the retry index and the delay.
  std::function<void(const AwsError&, int, std::chrono::milliseconds)> on_retry;
};

// Runs `attempt` until it succeeds, fails with an error that classify() calls
// final, or max_attempts sends have been made. The returned error's
// `attempts` holds the number of sends.
template <typename T>
AwsResult<T> run_with_retries(const RetryPolicy& policy, const std::function<AwsResult<T>()>& attempt) {
  const int max_attempts = policy.max_attempts < 1 ? 1 : policy.max_attempts;
  for (int sent = 1;; ++sent) {
    AwsResult<T> result = attempt();
    if (result.ok()) return result;

    AwsError error = std::move(result).error();
    error.attempts = sent;
    if (sent >= max_attempts || classify(error) == RetryClass::kNotRetryable) return fail(std::move(error));

    const int retry_index = sent - 1;
    const std::chrono::milliseconds wait = policy.backoff->delay(retry_index);
    if (policy.on_retry) policy.on_retry(error, retry_index, wait);
    if (policy.sleep) policy.sleep(wait);
  }
}

}  // namespace hivemind::aws
