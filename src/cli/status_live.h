#pragma once

// `hivemind status <id> --show-logs --show-metrics --show-costs --check`:
// the All-Seeing Eye's live views of one deployment. Unlike the rest of
// `status`, these read AWS (CloudWatch Logs, CloudWatch, Cost Explorer,
// ELBv2), each read bounded by short timeouts and all of them in parallel.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "cli/options.h"
#include "common/result.h"
#include "monitor/status_views.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::cli {

struct LiveStatusFlags {
  bool logs = false;
  bool metrics = false;
  bool costs = false;
  bool check = false;
  bool follow = false;
  std::string since = "1h";
  std::string filter;
  int lines = 50;
};

// Attribute that stores the previous `--check`: JSON with its time
// ("checked_at_ms") and when it last saw each critical error group
// ("last_seen_ms", by kind and signature). A group it saw, and has not
// seen again since, is not new.
inline constexpr const char* kLastCheckAttribute = "last_check";

// The AWS client configuration for reading a deployment's live views: its
// own target (its sandbox's moto, or AWS) with short timeouts and one retry.
Result<aws::ClientConfig> live_client_config(const GlobalOptions& global, const state::Deployment& deployment);

// Returns whether any flag requests a live view.
bool wants_live_status(const LiveStatusFlags& flags);

// Parses a window such as "90s", "30m", "1h" or "2d"; nothing for anything
// else, for zero, and for more than 31 days.
std::optional<std::chrono::seconds> parse_since(std::string_view text);

// The views as JSON: each requested one under "logs", "metrics" or "costs",
// either its data or {"error": "..."} when its read failed.
nlohmann::json status_views_json(const monitor::StatusViews& views);

// Runs the live views of `deployment` and prints them; returns the exit code.
// With --check, exits kExitFailure when a problem was found or the check
// could not read what it needs.
int run_live_status(const GlobalOptions& global, const LiveStatusFlags& flags, state::Store& store,
                    const state::Deployment& deployment);

}  // namespace hivemind::cli
