#pragma once

#include <string>

namespace hivemind::cli {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Options that every command accepts.
struct GlobalOptions {
  std::string state_dir = "./deployments";
  std::string region;   // empty: resolved from the environment and profile
  std::string profile;  // empty: AWS_PROFILE, then "default"
  bool yes = false;
  bool json = false;
  bool verbose = false;
  bool no_color = false;
};

}  // namespace hivemind::cli
