#pragma once

// AWS credentials and where they come from: environment variables, the shared
// profile files (~/.aws/credentials and ~/.aws/config) and the EC2 instance
// metadata service (IMDSv2), in the order every AWS SDK and the AWS CLI use.
// The process environment is passed in as a value, so that tests never change
// the real one. Nothing here logs or returns a secret in a message.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace hivemind::aws {

class HttpTransport;

// An AWS access key, with the session token of temporary credentials.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::string source;         // where they were found, e.g. "environment", "profile dev in ~/.aws/credentials"
  // When temporary credentials stop working; empty for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// The environment variables and home folder that AWS settings are read from.
struct Environment {
  std::map<std::string, std::string, std::less<>> variables;
  std::filesystem::path home;  // "~" in ~/.aws/config; empty when unknown

  // Returns the variable's value, or nothing when it is unset or empty (the
  // AWS CLI treats an empty variable as unset too).
  std::optional<std::string> get(std::string_view name) const;

  // Copies this process's environment; `home` comes from HOME.
  static Environment from_process();
};

// One section of an INI-style AWS file: key = value pairs, keys lower-cased.
// Indented lines under a key ("s3 =" followed by "  max_concurrency = 4")
// are stored as "s3.max_concurrency".
using ProfileSection = std::map<std::string, std::string, std::less<>>;

// A parsed AWS config or credentials file: section header (as written
// between the brackets, trimmed) to its keys.
struct ProfileFile {
  std::filesystem::path path;
  bool exists = false;
  std::map<std::string, ProfileSection, std::less<>> sections;
};

// Parses the text of an AWS config or credentials file. Comment lines start
// with '#' or ';'. Returns an error naming the file and line for anything
// else that is not a section header, a key = value line or an indented
// sub-setting.
Result<ProfileFile> parse_profile_file(std::string_view text, const std::filesystem::path& path);

// Reads and parses a file; a missing file is an empty ProfileFile with
// exists == false, not an error.
Result<ProfileFile> load_profile_file(const std::filesystem::path& path);

// The selected profile: its name and its settings from both files.
struct Profile {
  std::string name;
  ProfileFile credentials_file;  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
  ProfileFile config_file;       // AWS_CONFIG_FILE or ~/.aws/config
  // This profile's section of each file; null when the file has none.
  const ProfileSection* credentials_section() const;
  const ProfileSection* config_section() const;
  // Returns a key of the profile's config section (region, endpoint_url,
  // max_attempts, ...), or nothing.
  std::optional<std::string> config_value(std::string_view key) const;
};

// Returns the profile name: `explicit_name` (the --profile flag) when set,
// then AWS_PROFILE, then "default".
std::string select_profile_name(const Environment& environment, std::string_view explicit_name);

// Loads both profile files. Fails when a file cannot be read or parsed, and
// when the profile was named explicitly (flag or AWS_PROFILE) but neither
// file has it.
Result<Profile> load_profile(const Environment& environment, std::string_view explicit_name);

// Default address of the instance metadata service. Only ever contacted on an
// EC2 instance; tests set AWS_EC2_METADATA_SERVICE_ENDPOINT to a loopback
// server or AWS_EC2_METADATA_DISABLED=true.
inline constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";

// How Credentials::source of credentials from the instance metadata service
// begins; the role name follows.
inline constexpr std::string_view kImdsSourcePrefix = "EC2 instance metadata, role ";

// Fetches role credentials from the instance metadata service with IMDSv2:
// PUT /latest/api/token, then GET the role name and the role's credentials
// with that token. The endpoint comes from AWS_EC2_METADATA_SERVICE_ENDPOINT,
// and the timeout from AWS_METADATA_SERVICE_TIMEOUT (seconds, default 1).
// NOTE: there is no fallback to IMDSv1 when the token request fails. This
// fetches once; make_imds_refreshing_provider() (credentials_refresh.h)
// renews the credentials before `expiration`.
Result<Credentials> fetch_imds_credentials(const Environment& environment, HttpTransport& transport);

// Resolves credentials in the standard order: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the profile's keys in the
// credentials file, then in the config file; then IMDS, unless
// AWS_EC2_METADATA_DISABLED=true or `imds_transport` is null. With none
// found, the error lists every place looked at and why each gave nothing.
Result<Credentials> resolve_credentials(const Environment& environment, const Profile& profile,
                                        HttpTransport* imds_transport);

}  // namespace hivemind::aws
