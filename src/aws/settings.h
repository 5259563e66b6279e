#pragma once

// Region, endpoints and retry settings, resolved from command-line flags, the
// environment and the selected profile in the order the AWS CLI uses, and the
// ClientConfig built from them. Every function reads an Environment value and
// never the process environment itself.

#include <memory>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "aws/credentials.h"
#include "common/result.h"

namespace hivemind::aws {

// Values given on the command line; empty means not given.
struct SettingsOverrides {
  std::string profile;       // --profile
  std::string region;        // --region
  std::string endpoint_url;  // --endpoint-url, for every service
};

// Everything resolved for one run. `client` is ready for AwsClient.
struct ResolvedSettings {
  ClientConfig client;
  std::string profile_name;
  std::string region_source;  // "--region", "AWS_REGION", "profile dev in ~/.aws/config", ...
  // "standard", "legacy" or "adaptive", as configured.
  // NOTE: the client implements only the standard mode and uses it for all three.
  std::string retry_mode;
};

// Returns the region: `explicit_region` (--region), then AWS_REGION, then
// AWS_DEFAULT_REGION, then the profile's `region`. Fails when none is set or
// the value is not a region name (lower-case letters, digits and '-').
// `source`, when given, receives where the value came from.
Result<std::string> resolve_region(const Environment& environment, const Profile& profile,
                                   std::string_view explicit_region, std::string* source = nullptr);

// "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2" for the service id
// "elastic-load-balancing-v2" (or botocore's "Elastic Load Balancing v2"):
// upper-cased, with '-' and ' ' turned into '_'.
std::string endpoint_variable_name(std::string_view service_id);

// "https://<endpoint prefix>.<region>.amazonaws.com", with ".amazonaws.com.cn"
// in the China regions. Cost Explorer has one endpoint per partition:
// ce.us-east-1.amazonaws.com, or ce.cn-northwest-1.amazonaws.com.cn in China.
std::string default_endpoint(const ServiceSpec& service, std::string_view region);

// Returns the endpoint URL of `service`: `explicit_url` (--endpoint-url), then
// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the service's endpoint_url in
// the profile's `services` section, the profile's endpoint_url, and finally
// default_endpoint(). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or
// ignore_configured_endpoint_urls = true in the profile) skips the variables
// and the profile, but not `explicit_url`. Fails on a value that is not an
// http:// or https:// URL, naming where it came from.
Result<std::string> resolve_endpoint(const ServiceSpec& service, std::string_view region,
                                     const Environment& environment, const Profile& profile,
                                     std::string_view explicit_url = {});

// Returns AWS_MAX_ATTEMPTS, then the profile's max_attempts, then 3. Fails
// on a value that is not a whole number of at least 1.
Result<int> resolve_max_attempts(const Environment& environment, const Profile& profile);

// Returns AWS_RETRY_MODE, then the profile's retry_mode, then "standard".
// Fails on a value other than "standard", "legacy" or "adaptive".
Result<std::string> resolve_retry_mode(const Environment& environment, const Profile& profile);

// Resolves profile, credentials, region, endpoints and retry settings into a
// client configuration. IMDS is asked for credentials through
// `imds_transport` only when no other source has them; pass null to skip it.
// Every known service's endpoint is checked here, so that a malformed
// AWS_ENDPOINT_URL_* fails before the first call.
Result<ResolvedSettings> resolve_settings(const Environment& environment, const SettingsOverrides& overrides,
                                          HttpTransport* imds_transport);

// resolve_settings() for a long-running command: when the credentials come
// from the instance metadata service, the client configuration also gets a
// credentials provider that renews them through `imds_transport` before they
// expire (make_imds_refreshing_provider()), and keeps the transport alive.
Result<ResolvedSettings> resolve_settings(const Environment& environment, const SettingsOverrides& overrides,
                                          std::shared_ptr<HttpTransport> imds_transport);

// resolve_settings() for callers that need only the client configuration.
Result<ClientConfig> build_client_config(const Environment& environment, const SettingsOverrides& overrides,
                                         HttpTransport* imds_transport);

}  // namespace hivemind::aws
