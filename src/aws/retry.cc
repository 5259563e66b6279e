#include "aws/retry.h"

#include <algorithm>
#include <array>

namespace hivemind::aws {
namespace {

// The throttling codes that the AWS SDKs' standard retry mode recognizes.
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

constexpr std::array<std::string_view, 4> kTransientCodes = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
};

bool is_transient_status(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

bool is_transient_transport_code(std::string_view code) {
  return code == kTransportConnectionRefused || code == kTransportConnectionReset || code == kTransportTimeout;
}

}  // namespace

bool is_throttling_code(std::string_view code) {
  return !code.empty() && std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) != kThrottlingCodes.end();
}

bool is_transient_code(std::string_view code) {
  return !code.empty() && std::find(kTransientCodes.begin(), kTransientCodes.end(), code) != kTransientCodes.end();
}

RetryClass classify(const AwsError& error) {
  switch (error.kind) {
    case ErrorKind::kCredentials:
      return RetryClass::kNotRetryable;
    case ErrorKind::kTransport:
      return is_transient_transport_code(error.code) ? RetryClass::kTransient : RetryClass::kNotRetryable;
    case ErrorKind::kService:
    case ErrorKind::kParse:
      break;
  }
  if (is_throttling_code(error.code)) return RetryClass::kThrottling;
  if (is_transient_code(error.code)) return RetryClass::kTransient;
  if (is_transient_status(error.http_status)) return RetryClass::kTransient;
  return RetryClass::kNotRetryable;
}

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, unsigned seed)
    : base_(base), max_(max), random_(seed) {}

std::chrono::milliseconds Backoff::ceiling(int retry_index) const {
  // Past 2^30 the product exceeds any sensible maximum, so stop doubling.
  const int exponent = std::clamp(retry_index, 0, 30);
  const long long grown = static_cast<long long>(base_.count()) << exponent;
  return std::chrono::milliseconds(std::min<long long>(grown, max_.count()));
}

std::chrono::milliseconds Backoff::delay(int retry_index) {
  const long long upper = ceiling(retry_index).count();
  if (upper <= 0) return std::chrono::milliseconds(0);

  std::uniform_int_distribution<long long> distribution(0, upper);
  std::lock_guard lock(mutex_);
  return std::chrono::milliseconds(distribution(random_));
}

}  // namespace hivemind::aws
