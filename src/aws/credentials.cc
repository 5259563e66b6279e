#include "aws/credentials.h"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "aws/http.h"
#include "common/log.h"
#include "common/strings.h"

extern char** environ;

namespace hivemind::aws {

namespace {

constexpr std::string_view kImdsTokenTtlSeconds = "21600";
constexpr std::string_view kDefaultCredentialsFile = ".aws/credentials";
constexpr std::string_view kDefaultConfigFile = ".aws/config";

// Profile keys that make the AWS CLI fetch credentials some other way (assume
// role, IAM Identity Center, an external process, web identity).
constexpr std::string_view kUnsupportedSourceKeys[] = {"role_arn", "sso_session", "sso_start_url", "credential_process",
                                                       "web_identity_token_file"};

bool is_space(char c) { return c == ' ' || c == '\t'; }

Error malformed_line(const std::filesystem::path& path, int line_number, std::string_view reason) {
  return make_error("config.malformed_file",
                    "Malformed AWS profile file " + path.string() + " at line " + std::to_string(line_number) + ": " +
                        std::string(reason) + ".",
                    "Fix or remove that line; the file must contain [section] headers and key = value lines.");
}

std::filesystem::path expand_home(const std::string& path, const std::filesystem::path& home) {
  if (path == "~") return home;
  if (starts_with(path, "~/")) return home / path.substr(2);
  return path;
}

std::filesystem::path file_path(const Environment& environment, std::string_view variable,
                                std::string_view default_relative) {
  if (auto configured = environment.get(variable)) return expand_home(*configured, environment.home);
  return environment.home / default_relative;
}

// A key = value line: key lower-cased and trimmed, value trimmed.
std::optional<std::pair<std::string, std::string>> split_key_value(std::string_view line) {
  size_t equals = line.find('=');
  if (equals == std::string_view::npos) return std::nullopt;
  std::string key = to_lower(trim(line.substr(0, equals)));
  if (key.empty()) return std::nullopt;
  return std::make_pair(key, trim(line.substr(equals + 1)));
}

bool has_unsupported_source(const ProfileSection& section, std::string& key) {
  for (std::string_view candidate : kUnsupportedSourceKeys) {
    if (section.contains(candidate)) {
      key = candidate;
      return true;
    }
  }
  return false;
}

std::optional<std::string> find_key(const ProfileSection& section, std::string_view key) {
  auto found = section.find(key);
  if (found == section.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

// Where one profile section was looked at, for messages: `profile "dev" in /home/u/.aws/config`.
std::string describe_place(const Profile& profile, const ProfileFile& file) {
  return "profile \"" + profile.name + "\" in " + file.path.string();
}

enum class SectionOutcome { kFound, kNotHere, kFailed };

// Reads access keys from one profile section. kNotHere adds to `looked` why
// the section gave nothing; kFailed sets `error`.
SectionOutcome keys_from_section(const Profile& profile, const ProfileFile& file, const ProfileSection* section,
                                 Credentials& credentials, std::vector<std::string>& looked, Error& error) {
  std::string place = describe_place(profile, file);
  if (!file.exists) {
    looked.push_back(place + ": file not found");
    return SectionOutcome::kNotHere;
  }
  if (section == nullptr) {
    looked.push_back(place + ": no such profile in this file");
    return SectionOutcome::kNotHere;
  }

  auto key_id = find_key(*section, "aws_access_key_id");
  auto secret = find_key(*section, "aws_secret_access_key");
  if (key_id && secret) {
    credentials = {*key_id, *secret, find_key(*section, "aws_session_token").value_or(""), place, std::nullopt};
    return SectionOutcome::kFound;
  }
  if (key_id || secret) {
    std::string missing = key_id ? "aws_secret_access_key" : "aws_access_key_id";
    error = make_error(
        "credentials.partial",
        place + " has " + (key_id ? "aws_access_key_id" : "aws_secret_access_key") + " but no " + missing + ".",
        "Add " + missing + " to that profile, or remove the incomplete key.");
    return SectionOutcome::kFailed;
  }

  std::string unsupported;
  if (has_unsupported_source(*section, unsupported)) {
    error = make_error("credentials.unsupported_source",
                       place + " gets its credentials through " + unsupported + ", which HiveMind does not support.",
                       "Use a profile with aws_access_key_id and aws_secret_access_key, or export temporary "
                       "credentials (for example with `aws configure export-credentials --format env`).");
    return SectionOutcome::kFailed;
  }
  looked.push_back(place + ": no aws_access_key_id or aws_secret_access_key");
  return SectionOutcome::kNotHere;
}

Error imds_error(std::string message) {
  return make_error("credentials.imds_failed", std::move(message),
                    "Attach an IAM role to the instance, or set AWS credentials in the environment or a profile.");
}

// Sends one IMDS request and returns the body of a 200 response.
Result<std::string> imds_request(HttpTransport& transport, const TransportOptions& options, std::string method,
                                 const std::string& url, HeaderList headers) {
  HttpRequest request{std::move(method), url, std::move(headers), ""};
  auto response = transport.send(request, options);
  if (!response.ok()) return fail(imds_error(request.method + " " + url + " failed: " + response.error().message));
  if (response->status != 200) {
    return fail(imds_error(request.method + " " + url + " returned HTTP " + std::to_string(response->status)));
  }
  return response->body;
}

// Parses "2026-12-04T21:00:00Z".
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(const std::string& text) {
  std::tm parts{};
  std::istringstream stream(text);
  stream >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
  if (stream.fail()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

TransportOptions imds_transport_options(const Environment& environment) {
  std::chrono::milliseconds timeout{1000};
  if (auto configured = environment.get("AWS_METADATA_SERVICE_TIMEOUT")) {
    try {
      double seconds = std::stod(*configured);
      if (seconds > 0) timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    } catch (const std::exception&) {
      log::get("credentials")->warn("Ignoring invalid AWS_METADATA_SERVICE_TIMEOUT={}; using 1 second", *configured);
    }
  }
  TransportOptions options;
  options.connect_timeout = timeout;
  options.total_timeout = timeout;
  options.max_response_bytes = 64 * 1024;
  return options;
}

std::string imds_endpoint(const Environment& environment) {
  std::string endpoint =
      environment.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultImdsEndpoint));
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

bool imds_disabled(const Environment& environment) {
  return iequals(environment.get("AWS_EC2_METADATA_DISABLED").value_or(""), "true");
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (const std::string& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

}  // namespace

std::optional<std::string> Environment::get(std::string_view name) const {
  auto found = variables.find(name);
  if (found == variables.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

Environment Environment::from_process() {
  Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.variables.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  if (auto home = environment.get("HOME")) environment.home = *home;
  return environment;
}

Result<ProfileFile> parse_profile_file(std::string_view text, const std::filesystem::path& path) {
  ProfileFile file;
  file.path = path;
  file.exists = true;

  ProfileSection* section = nullptr;
  std::string parent_key;  // the last key of the section, for indented sub-settings
  int line_number = 0;
  for (std::string line : split(text, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string trimmed = trim(line);
    if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';') continue;

    if (trimmed.front() == '[') {
      if (trimmed.back() != ']') return fail(malformed_line(path, line_number, "section header without ']'"));
      std::string name = trim(std::string_view(trimmed).substr(1, trimmed.size() - 2));
      if (name.empty()) return fail(malformed_line(path, line_number, "empty section name"));
      section = &file.sections[name];
      parent_key.clear();
      continue;
    }
    if (section == nullptr) return fail(malformed_line(path, line_number, "a setting before any [section] header"));

    auto key_value = split_key_value(trimmed);
    if (!key_value) return fail(malformed_line(path, line_number, "expected key = value"));
    if (is_space(line.front()) && !parent_key.empty()) {
      (*section)[parent_key + "." + key_value->first] = key_value->second;
      continue;
    }
    parent_key = key_value->first;
    (*section)[key_value->first] = key_value->second;
  }
  return file;
}

Result<ProfileFile> load_profile_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    ProfileFile missing;
    missing.path = path;
    return missing;
  }

  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return fail(make_error("config.unreadable_file", "Cannot read AWS profile file " + path.string() + ".",
                           "Check the file's permissions, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE "
                           "elsewhere."));
  }
  std::ostringstream text;
  text << stream.rdbuf();
  return parse_profile_file(text.str(), path);
}

const ProfileSection* Profile::credentials_section() const {
  auto found = credentials_file.sections.find(name);
  return found == credentials_file.sections.end() ? nullptr : &found->second;
}

const ProfileSection* Profile::config_section() const {
  auto found = config_file.sections.find("profile " + name);
  if (found == config_file.sections.end() && name == "default") found = config_file.sections.find("default");
  return found == config_file.sections.end() ? nullptr : &found->second;
}

std::optional<std::string> Profile::config_value(std::string_view key) const {
  const ProfileSection* section = config_section();
  if (section == nullptr) return std::nullopt;
  return find_key(*section, key);
}

std::string select_profile_name(const Environment& environment, std::string_view explicit_name) {
  if (!explicit_name.empty()) return std::string(explicit_name);
  return environment.get("AWS_PROFILE").value_or("default");
}

Result<Profile> load_profile(const Environment& environment, std::string_view explicit_name) {
  Profile profile;
  profile.name = select_profile_name(environment, explicit_name);

  auto credentials_file =
      load_profile_file(file_path(environment, "AWS_SHARED_CREDENTIALS_FILE", kDefaultCredentialsFile));
  if (!credentials_file.ok()) return fail(credentials_file.error());
  profile.credentials_file = std::move(credentials_file).value();

  auto config_file = load_profile_file(file_path(environment, "AWS_CONFIG_FILE", kDefaultConfigFile));
  if (!config_file.ok()) return fail(config_file.error());
  profile.config_file = std::move(config_file).value();

  bool named = !explicit_name.empty() || environment.get("AWS_PROFILE").has_value();
  if (named && profile.credentials_section() == nullptr && profile.config_section() == nullptr) {
    return fail(make_error(
        "config.profile_not_found",
        "AWS profile \"" + profile.name + "\" was not found in " + profile.credentials_file.path.string() + " or " +
            profile.config_file.path.string() + ".",
        "Create it with `aws configure --profile " + profile.name + "`, or pass --profile with an existing profile."));
  }
  return profile;
}

Result<Credentials> fetch_imds_credentials(const Environment& environment, HttpTransport& transport) {
  std::string endpoint = imds_endpoint(environment);
  TransportOptions options = imds_transport_options(environment);

  auto token = imds_request(transport, options, "PUT", endpoint + "/latest/api/token",
                            {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(kImdsTokenTtlSeconds)}});
  if (!token.ok()) return fail(token.error());
  HeaderList with_token = {{"X-aws-ec2-metadata-token", *token}};

  std::string roles_url = endpoint + "/latest/meta-data/iam/security-credentials/";
  auto roles = imds_request(transport, options, "GET", roles_url, with_token);
  if (!roles.ok()) return fail(roles.error());
  std::string role = trim(split(*roles, '\n').front());
  if (role.empty()) return fail(imds_error("No IAM role is attached to this instance (" + roles_url + " is empty)."));

  auto document = imds_request(transport, options, "GET", roles_url + role, with_token);
  if (!document.ok()) return fail(document.error());
  nlohmann::json body = nlohmann::json::parse(*document, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || body.value("Code", "") != "Success" || !body.contains("AccessKeyId") ||
      !body.contains("SecretAccessKey")) {
    return fail(imds_error("Instance metadata returned no usable credentials for role \"" + role + "\" (Code: " +
                           (body.is_object() ? body.value("Code", "missing") : std::string("not JSON")) + ")."));
  }

  Credentials credentials;
  credentials.access_key_id = body.value("AccessKeyId", "");
  credentials.secret_access_key = body.value("SecretAccessKey", "");
  credentials.session_token = body.value("Token", "");
  credentials.source = std::string(kImdsSourcePrefix) + role;
  credentials.expiration = parse_iso8601_utc(body.value("Expiration", ""));
  return credentials;
}

Result<Credentials> resolve_credentials(const Environment& environment, const Profile& profile,
                                        HttpTransport* imds_transport) {
  auto logger = log::get("credentials");
  std::vector<std::string> looked;

  // 1. Environment variables.
  auto key_id = environment.get("AWS_ACCESS_KEY_ID");
  auto secret = environment.get("AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    logger->debug("Using credentials from environment variables");
    return Credentials{*key_id, *secret, environment.get("AWS_SESSION_TOKEN").value_or(""), "environment",
                       std::nullopt};
  }
  if (key_id || secret) {
    std::string missing = key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID";
    return fail(make_error(
        "credentials.partial",
        std::string(key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set but " + missing + " is not.",
        "Set " + missing + " as well, or unset both to use a profile."));
  }
  looked.push_back("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set");

  // 2. and 3. The profile in the credentials file, then in the config file.
  Credentials credentials;
  Error error;
  for (auto [file, section] : {std::pair{&profile.credentials_file, profile.credentials_section()},
                               std::pair{&profile.config_file, profile.config_section()}}) {
    switch (keys_from_section(profile, *file, section, credentials, looked, error)) {
      case SectionOutcome::kFound:
        logger->debug("Using credentials from {}", credentials.source);
        return credentials;
      case SectionOutcome::kFailed:
        return fail(error);
      case SectionOutcome::kNotHere:
        break;
    }
  }

  // 4. The instance metadata service.
  std::string imds_place = "EC2 instance metadata at " + imds_endpoint(environment);
  if (imds_disabled(environment)) {
    looked.push_back(imds_place + ": skipped because AWS_EC2_METADATA_DISABLED=true");
  } else if (imds_transport == nullptr) {
    looked.push_back(imds_place + ": skipped because no HTTP transport was given");
  } else {
    auto fetched = fetch_imds_credentials(environment, *imds_transport);
    if (fetched.ok()) {
      logger->debug("Using credentials from {}", fetched->source);
      return fetched;
    }
    logger->debug("Instance metadata gave no credentials: {}", fetched.error().message);
    looked.push_back(imds_place + ": " + fetched.error().message);
  }

  return fail(make_error("credentials.not_found", "No AWS credentials found. Looked at: " + join(looked, "; ") + ".",
                         "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure` to write a profile, "
                         "or pass --profile with a profile that has keys."));
}

}  // namespace hivemind::aws
