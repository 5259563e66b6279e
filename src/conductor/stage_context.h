#pragma once

// What every stage of a deployment can read and write while the Conductor
// runs it. The Conductor owns it; stages receive it by reference, one at a
// time, in the order analyze -> build -> provision -> deploy -> secure ->
// verify -> monitor -> report.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "aws/client.h"
#include "build/compiler.h"
#include "infra/context.h"
#include "infra/plan.h"
#include "repo/analysis.h"
#include "repo/source.h"
#include "state/model.h"
#include "state/paths.h"
#include "state/store.h"

namespace hivemind::conductor {

// A line of progress for the user: which agent does what.
struct ConductorEvent {
  enum class Kind {
    kStageStarted,
    kStageSucceeded,
    kStageFailed,
    kProgress,           // the current agent's current action
    kWaiting,            // a wait with its elapsed time and usual duration
    kNote,               // a fact worth showing, e.g. "build cache hit"
    kDeploymentCreated,  // text: the new deployment's id, sent before any stage
  };

  Kind kind = Kind::kProgress;
  state::StageName stage = state::StageName::analyze;
  std::string agent;  // the persona, e.g. "Peter Provisioner"
  std::string text;
  std::chrono::milliseconds elapsed{0};
  std::chrono::seconds usual{0};  // typical duration of the wait, 0 when unknown
};

using ConductorEventSink = std::function<void(const ConductorEvent&)>;

// The destination of the deployment's AWS calls.
enum class Target { kAws, kSandbox };

// The options a deployment was started with; stored with the deployment so
// that retry and update use the same ones.
struct DeployOptions {
  std::string source;  // path or URL
  std::string description;
  std::string ref;
  std::string app_dir;
  std::string instance_type = "t3.micro";
  std::optional<bool> database;  // --db / --no-db; empty: as the analysis finds
  std::string certificate_arn;
  std::string ssh_cidr;  // empty: detected
  std::string ami;
  bool auto_cleanup = true;
  int max_retries = 3;
  std::map<std::string, std::string> tags;
};

struct StageContext {
  state::Deployment deployment;
  DeployOptions options;
  Target target = Target::kAws;
  std::filesystem::path state_dir;
  state::DeploymentPaths paths;
  state::Store* store = nullptr;
  aws::AwsClient* client = nullptr;
  ConductorEventSink on_event;

  // Filled in by the stages as they run.
  std::optional<repo::SourceTree> source;
  std::optional<repo::Analysis> analysis;
  std::optional<build::BuildResult> build;
  std::optional<infra::PlanInputs> plan_inputs;
  std::optional<infra::Plan> plan;
  std::unique_ptr<infra::InfraContext> infra;
  // Set by a failing stage that has more detail than its error: the agent,
  // the AWS action and its request id.
  std::optional<state::FailureInfo> failure;

  void emit(ConductorEvent event) const {
    if (on_event) on_event(event);
  }
};

// Appends a line to the deployment's timeline. A failed write is logged and
// otherwise ignored: the timeline is a record, and the store latches the
// error for the next write that matters.
void record_event(state::Store& store, const state::Event& event);

// A stage's work. The Conductor records its start, end, outcome and
// duration; the stage only does the work and returns what failed.
using StageFunction = std::function<Status(StageContext&)>;

}  // namespace hivemind::conductor
