#pragma once

// The deployment report: render_report() is a pure function from plain data
// to text, tested as exact text; write_report() gathers that data from state
// and writes <state_dir>/<id>/report/report.txt.
//
// The report never contains a secret: attributes whose key names a password,
// secret, token or key are left out, and credentials embedded in a database
// URL are removed.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::report {

// A section of live figures read from AWS at report time (the All-Seeing
// Eye's logs summary, metrics and costs), already rendered as text because
// this library reads only state.
struct LiveSection {
  std::string title;  // e.g. "Logs (last hour)"
  std::string body;   // lines ending in '\n', printed indented
};

struct ReportData {
  state::Deployment deployment;
  std::vector<state::StageRun> stage_runs;
  std::vector<state::Resource> resources;
  std::vector<state::VerificationResult> verifications;
  std::map<std::string, std::string> attributes;  // "url", "ssh_command", "analysis", ...
  std::vector<LiveSection> live;                  // printed after the estimated costs
};

std::string render_report(const ReportData& data);

// Returns `endpoint` without a "user:password@" part.
std::string strip_credentials(const std::string& endpoint);

// Reads the deployment from `store`, renders it with the `live` sections
// and writes the report file (replacing it atomically), then stores
// attribute "report_path". Returns the file's path.
Result<std::filesystem::path> write_report(state::Store& store, const std::string& deployment_id,
                                           std::vector<LiveSection> live = {});

}  // namespace hivemind::report
