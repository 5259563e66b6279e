#include "aws/credentials_refresh.h"

#include <ctime>
#include <mutex>
#include <utility>

#include "common/log.h"

namespace hivemind::aws {
namespace {

using Clock = std::chrono::system_clock;

std::string format_utc(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// The cached credentials and when to ask for new ones. Shared by every copy
// of the provider function; `mutex` guards the other members.
class RefreshingCredentials {
 public:
  RefreshingCredentials(Credentials initial, std::function<Result<Credentials>()> fetch, RefreshOptions options)
      : current_(std::move(initial)), fetch_(std::move(fetch)), options_(std::move(options)) {
    if (!options_.now) options_.now = [] { return Clock::now(); };
  }

  AwsResult<Credentials> get() {
    std::lock_guard lock(mutex_);
    if (!current_.expiration) return current_;

    const Clock::time_point now = options_.now();
    if (now < *current_.expiration - options_.refresh_margin || now < next_attempt_) {
      if (now < *current_.expiration) return current_;
    }
    renew(now);
    if (now < *current_.expiration) return current_;
    return fail(expired_error());
  }

 private:
  // Fetches new credentials and keeps them when they last longer than the
  // current ones. REQUIRES: mutex_ is held.
  void renew(Clock::time_point now) {
    auto logger = log::get("credentials");
    Result<Credentials> fetched = fetch_();
    if (!fetched.ok()) {
      last_failure_ = fetched.error().message;
      logger->warn("Could not renew the credentials from {}, which expire at {}: {}", current_.source,
                   format_utc(*current_.expiration), last_failure_);
    } else if (!fetched->expiration || *fetched->expiration > *current_.expiration) {
      current_ = std::move(fetched).value();
      last_failure_.clear();
      logger->info("Renewed the credentials from {}; they expire at {}", current_.source,
                   current_.expiration ? format_utc(*current_.expiration) : std::string("never"));
      return;
    } else {
      last_failure_ = "the source returned credentials that expire at " + format_utc(*fetched->expiration) +
                      ", no later than the current ones";
      logger->warn("Could not renew the credentials from {}: {}", current_.source, last_failure_);
    }
    next_attempt_ = now + options_.retry_interval;
  }

  AwsError expired_error() const {
    AwsError error;
    error.kind = ErrorKind::kCredentials;
    error.code = "credentials.expired";
    error.message = "the credentials from " + current_.source + " expired at " + format_utc(*current_.expiration) +
                    " and could not be renewed: " + last_failure_;
    return error;
  }

  std::mutex mutex_;
  Credentials current_;               // guarded by mutex_
  Clock::time_point next_attempt_{};  // guarded by mutex_
  std::string last_failure_;          // guarded by mutex_
  std::function<Result<Credentials>()> fetch_;
  RefreshOptions options_;
};

}  // namespace

CredentialsProvider make_refreshing_provider(Credentials initial, std::function<Result<Credentials>()> fetch,
                                             RefreshOptions options) {
  auto shared = std::make_shared<RefreshingCredentials>(std::move(initial), std::move(fetch), std::move(options));
  return [shared]() { return shared->get(); };
}

CredentialsProvider make_imds_refreshing_provider(Credentials initial, Environment environment,
                                                  std::shared_ptr<HttpTransport> transport, RefreshOptions options) {
  auto fetch = [environment = std::move(environment), transport = std::move(transport)]() {
    return fetch_imds_credentials(environment, *transport);
  };
  return make_refreshing_provider(std::move(initial), std::move(fetch), std::move(options));
}

}  // namespace hivemind::aws
