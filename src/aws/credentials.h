#pragma once

#include <string>

namespace hivemind::aws {

// An AWS access key, with the session token of temporary credentials.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::string source;         // where they were found, e.g. "environment", "profile dev in ~/.aws/credentials"
};

}  // namespace hivemind::aws
