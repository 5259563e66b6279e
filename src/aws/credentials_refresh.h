#pragma once

// Temporary credentials kept fresh for a long-running command. Credentials
// from the EC2 instance metadata service expire (after about six hours), and
// a deployment that started with them must not fail halfway because nothing
// fetched the next ones.

#include <chrono>
#include <functional>
#include <memory>

#include "aws/client.h"
#include "aws/credentials.h"
#include "common/result.h"

namespace hivemind::aws {

struct RefreshOptions {
  // How long before their expiration credentials are renewed. EC2 makes new
  // instance role credentials available at least five minutes before the
  // old ones expire (EC2 User Guide, "Retrieve security credentials from
  // instance metadata"), so a fetch inside this margin gets new ones.
  std::chrono::seconds refresh_margin{300};
  // After a renewal failed or returned the same expiration while the current
  // credentials are still valid, how long to keep them before trying again,
  // so that a broken metadata service is not asked before every call.
  std::chrono::seconds retry_interval{10};
  // The clock; the system clock when empty.
  std::function<std::chrono::system_clock::time_point()> now;
};

// Returns a provider for ClientConfig::credentials_provider that returns
// `initial` until it is within the refresh margin of its expiration, then
// calls `fetch` for new credentials. Credentials without an expiration are
// returned as they are, forever. When a renewal fails, the current
// credentials are kept while they are still valid (the failure is logged at
// warning level); once they have expired, the provider returns an error of
// kind kCredentials, code "credentials.expired", that gives when they expired
// and why the renewal failed. Thread safe: one fetch at a time, and callers
// wait for it.
CredentialsProvider make_refreshing_provider(Credentials initial, std::function<Result<Credentials>()> fetch,
                                             RefreshOptions options = {});

// make_refreshing_provider() with fetch_imds_credentials() as the fetch, on
// `transport`, which the provider keeps alive.
CredentialsProvider make_imds_refreshing_provider(Credentials initial, Environment environment,
                                                  std::shared_ptr<HttpTransport> transport,
                                                  RefreshOptions options = {});

}  // namespace hivemind::aws
