#include "aws/settings.h"

#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include "aws/credentials_refresh.h"
#include "common/log.h"
#include "common/strings.h"

namespace hivemind::aws {

namespace {

constexpr int kDefaultMaxAttempts = 3;

// A setting's value together with where it was found, for messages.
struct Sourced {
  std::string value;
  std::string source;
};

std::string profile_place(const Profile& profile) {
  return "profile " + profile.name + " in " + profile.config_file.path.string();
}

// The first of: the environment variable, then the profile's config key.
std::optional<Sourced> env_then_profile(const Environment& environment, const Profile& profile,
                                        std::string_view variable, std::string_view key) {
  if (auto value = environment.get(variable)) return Sourced{*value, std::string(variable)};
  if (auto value = profile.config_value(key))
    return Sourced{*value, std::string(key) + " in " + profile_place(profile)};
  return std::nullopt;
}

bool is_region_name(std::string_view region) {
  if (region.empty()) return false;
  for (char c : region) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) return false;
  }
  return true;
}

bool is_http_url(std::string_view url) {
  std::string lower = to_lower(url.substr(0, 8));
  return (starts_with(lower, "http://") && url.size() > 7) || (starts_with(lower, "https://") && url.size() > 8);
}

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool ignore_configured_endpoints(const Environment& environment, const Profile& profile) {
  auto setting =
      env_then_profile(environment, profile, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls");
  return setting && iequals(setting->value, "true");
}

// The service's endpoint_url in the profile's `services` section:
//   [profile dev]            [services local]
//   services = local         elastic_load_balancing_v2 =
//                              endpoint_url = http://127.0.0.1:5000
std::optional<Sourced> services_section_endpoint(const ServiceSpec& service, const Profile& profile) {
  auto section_name = profile.config_value("services");
  if (!section_name) return std::nullopt;
  auto section = profile.config_file.sections.find("services " + *section_name);
  if (section == profile.config_file.sections.end()) return std::nullopt;

  std::string key = to_lower(service.id);
  for (char& c : key) {
    if (c == '-' || c == ' ') c = '_';
  }
  auto found = section->second.find(key + ".endpoint_url");
  if (found == section->second.end() || found->second.empty()) return std::nullopt;
  return Sourced{found->second,
                 key + ".endpoint_url in [services " + *section_name + "] of " + profile.config_file.path.string()};
}

// The configured (not default) endpoint, in precedence order.
std::optional<Sourced> configured_endpoint(const ServiceSpec& service, const Environment& environment,
                                           const Profile& profile) {
  std::string variable = endpoint_variable_name(service.id);
  if (auto value = environment.get(variable)) return Sourced{*value, variable};
  if (auto value = environment.get("AWS_ENDPOINT_URL")) return Sourced{*value, "AWS_ENDPOINT_URL"};
  if (auto value = services_section_endpoint(service, profile)) return value;
  if (auto value = profile.config_value("endpoint_url"))
    return Sourced{*value, "endpoint_url in " + profile_place(profile)};
  return std::nullopt;
}

Error invalid_value(const Sourced& setting, std::string_view expected) {
  return make_error(
      "config.invalid_value",
      "Invalid value \"" + setting.value + "\" for " + setting.source + ": expected " + std::string(expected) + ".",
      "Correct or unset " + setting.source + ".");
}

std::array<const ServiceSpec*, 9> known_services() {
  return {&ec2_service(),  &elbv2_service(),         &rds_service(), &monitoring_service(), &sts_service(),
          &logs_service(), &cost_explorer_service(), &ssm_service(), &tagging_service()};
}

}  // namespace

Result<std::string> resolve_region(const Environment& environment, const Profile& profile,
                                   std::string_view explicit_region, std::string* source) {
  std::optional<Sourced> region;
  if (!explicit_region.empty()) {
    region = Sourced{std::string(explicit_region), "--region"};
  } else if (auto value = environment.get("AWS_REGION")) {
    region = Sourced{*value, "AWS_REGION"};
  } else {
    region = env_then_profile(environment, profile, "AWS_DEFAULT_REGION", "region");
  }

  if (!region) {
    return fail(make_error("config.missing_region",
                           "No AWS region is set: no --region flag, no AWS_REGION or AWS_DEFAULT_REGION, and no "
                           "region in " +
                               profile_place(profile) + ".",
                           "Pass --region (for example --region us-east-1), export AWS_REGION, or run "
                           "`aws configure set region us-east-1 --profile " +
                               profile.name + "`."));
  }
  if (!is_region_name(region->value)) {
    return fail(invalid_value(*region, "a region name such as us-east-1"));
  }
  if (source != nullptr) *source = region->source;
  return region->value;
}

std::string endpoint_variable_name(std::string_view service_id) {
  std::string name = "AWS_ENDPOINT_URL_";
  for (char c : service_id) {
    name += (c == '-' || c == ' ') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string default_endpoint(const ServiceSpec& service, std::string_view region) {
  bool china = starts_with(region, "cn-");
  std::string suffix = china ? ".amazonaws.com.cn" : ".amazonaws.com";
  std::string host_region(region);
  if (service.endpoint_prefix == "ce") host_region = china ? "cn-northwest-1" : "us-east-1";
  return "https://" + std::string(service.endpoint_prefix) + "." + host_region + suffix;
}

Result<std::string> resolve_endpoint(const ServiceSpec& service, std::string_view region,
                                     const Environment& environment, const Profile& profile,
                                     std::string_view explicit_url) {
  std::optional<Sourced> endpoint;
  if (!explicit_url.empty()) {
    endpoint = Sourced{std::string(explicit_url), "--endpoint-url"};
  } else if (!ignore_configured_endpoints(environment, profile)) {
    endpoint = configured_endpoint(service, environment, profile);
  }

  if (!endpoint) return default_endpoint(service, region);
  if (!is_http_url(endpoint->value)) return fail(invalid_value(*endpoint, "an http:// or https:// URL"));
  return strip_trailing_slashes(endpoint->value);
}

Result<int> resolve_max_attempts(const Environment& environment, const Profile& profile) {
  auto setting = env_then_profile(environment, profile, "AWS_MAX_ATTEMPTS", "max_attempts");
  if (!setting) return kDefaultMaxAttempts;

  int attempts = 0;
  const std::string& text = setting->value;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), attempts);
  if (error != std::errc() || end != text.data() + text.size() || attempts < 1) {
    return fail(invalid_value(*setting, "a whole number of attempts, at least 1"));
  }
  return attempts;
}

Result<std::string> resolve_retry_mode(const Environment& environment, const Profile& profile) {
  auto setting = env_then_profile(environment, profile, "AWS_RETRY_MODE", "retry_mode");
  if (!setting) return std::string("standard");

  std::string mode = to_lower(setting->value);
  if (mode != "standard" && mode != "legacy" && mode != "adaptive") {
    return fail(invalid_value(*setting, "standard, legacy or adaptive"));
  }
  return mode;
}

Result<ResolvedSettings> resolve_settings(const Environment& environment, const SettingsOverrides& overrides,
                                          HttpTransport* imds_transport) {
  auto logger = log::get("settings");
  ResolvedSettings settings;

  auto profile = load_profile(environment, overrides.profile);
  if (!profile.ok()) return fail(profile.error());
  settings.profile_name = profile->name;

  auto region = resolve_region(environment, *profile, overrides.region, &settings.region_source);
  if (!region.ok()) return fail(region.error());
  settings.client.region = *region;

  // Check every service's endpoint now, so that a malformed one fails before
  // the first call rather than in the middle of a deployment.
  for (const ServiceSpec* service : known_services()) {
    auto endpoint = resolve_endpoint(*service, *region, environment, *profile, overrides.endpoint_url);
    if (!endpoint.ok()) return fail(endpoint.error());
  }
  auto shared_environment = std::make_shared<const Environment>(environment);
  auto shared_profile = std::make_shared<const Profile>(*profile);
  settings.client.endpoint_for = [shared_environment, shared_profile, region = *region,
                                  explicit_url = overrides.endpoint_url](const ServiceSpec& service) {
    auto endpoint = resolve_endpoint(service, region, *shared_environment, *shared_profile, explicit_url);
    return endpoint.ok() ? *endpoint : default_endpoint(service, region);
  };

  auto max_attempts = resolve_max_attempts(environment, *profile);
  if (!max_attempts.ok()) return fail(max_attempts.error());
  settings.client.max_attempts = *max_attempts;

  auto retry_mode = resolve_retry_mode(environment, *profile);
  if (!retry_mode.ok()) return fail(retry_mode.error());
  settings.retry_mode = *retry_mode;
  if (settings.retry_mode != "standard") {
    logger->info("retry_mode {} is not implemented; retrying in standard mode", settings.retry_mode);
  }

  auto credentials = resolve_credentials(environment, *profile, imds_transport);
  if (!credentials.ok()) return fail(credentials.error());
  settings.client.credentials = std::move(credentials).value();

  logger->debug("Profile {}, region {} from {}, credentials from {}, max attempts {}", settings.profile_name,
                settings.client.region, settings.region_source, settings.client.credentials.source,
                settings.client.max_attempts);
  return settings;
}

Result<ResolvedSettings> resolve_settings(const Environment& environment, const SettingsOverrides& overrides,
                                          std::shared_ptr<HttpTransport> imds_transport) {
  auto settings = resolve_settings(environment, overrides, imds_transport.get());
  if (!settings.ok()) return settings;

  const Credentials& credentials = settings->client.credentials;
  if (imds_transport && credentials.expiration && credentials.source.starts_with(kImdsSourcePrefix)) {
    settings->client.credentials_provider =
        make_imds_refreshing_provider(credentials, environment, std::move(imds_transport));
  }
  return settings;
}

Result<ClientConfig> build_client_config(const Environment& environment, const SettingsOverrides& overrides,
                                         HttpTransport* imds_transport) {
  auto settings = resolve_settings(environment, overrides, imds_transport);
  if (!settings.ok()) return fail(settings.error());
  return std::move(settings).value().client;
}

}  // namespace hivemind::aws
