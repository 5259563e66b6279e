#pragma once

// Cornelius the Conductor: the one place that holds the order of the stages.
// It runs analyze -> build -> provision -> deploy -> secure -> verify ->
// monitor -> report, records each stage's start, end, outcome and duration,
// detects the failing stage, cleans up after a failure unless told not to,
// and drives retry, rollback and destroy. It holds the deployment's lock for
// the whole of each command.
//
// Thread safety: one Conductor serves one command on one thread.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aws/client.h"
#include "common/result.h"
#include "conductor/stage_context.h"
#include "conductor/stage_deploy.h"
#include "infra/context.h"
#include "infra/discovery.h"
#include "infra/plan.h"
#include "state/lock.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::conductor {

struct ConductorSetup {
  std::filesystem::path state_dir;
  Target target = Target::kAws;
  aws::ClientConfig client_config;
  std::shared_ptr<aws::HttpTransport> transport;  // empty: curl
  ConductorEventSink on_event;
  // The stages after provision, by name; a stage with no function fails the
  // deployment with a clear error, never silently.
  std::map<state::StageName, StageFunction> stages;
  infra::WaitPolicy wait;
  // Stops the app on its hosts before a teardown; optional, and its failure
  // does not stop the teardown.
  StageFunction stop_app;
  std::string command_line;  // recorded in the lock, e.g. "hivemind deploy ./app"
  // The deploy settings of `hivemind update`, which deploys onto instances
  // itself; tests shorten its waits.
  DeploySettings update_deploy;
};

struct UpdateOptions {
  std::string version_ref;  // --version: a branch, tag or commit; empty: the ref the deployment was made from
  bool rolling = false;     // in place on the serving instance, instead of blue-green
};

// The outcome of an update that succeeded.
struct UpdateSummary {
  state::Deployment deployment;
  std::string strategy;  // "blue-green" or "rolling"
  std::string previous_version;
  std::string previous_instance;
  std::string current_instance;
  std::chrono::milliseconds duration{0};
};

// The outcome of a teardown (rollback or destroy).
struct TeardownSummary {
  std::vector<state::Resource> deleted;
  std::vector<state::Resource> remaining;  // with the error of each in `errors`
  // Recorded resources AWS did not find on delete: gone before the teardown,
  // so they are not in `deleted` nor counted in the savings.
  std::vector<state::Resource> already_gone;
  std::map<std::string, std::string> errors;
  double monthly_savings_usd = 0.0;
  std::vector<infra::DiscoveredResource> untracked;  // destroy: found by tag, missing from state
  bool ok() const { return remaining.empty(); }
};

// The resources a teardown is about to delete, for the confirmation prompt.
struct TeardownPreview {
  std::vector<state::Resource> resources;
  std::vector<infra::DiscoveredResource> untracked;
  double monthly_usd = 0.0;
};

class Conductor {
 public:
  static Result<std::unique_ptr<Conductor>> open(ConductorSetup setup);

  // Runs every stage of a new deployment. On a failure the deployment is
  // rolled back unless options.auto_cleanup is false; either way the returned
  // deployment records what happened (status failed or rolled_back, the failed
  // stage and the failure). An error is returned only when the deployment
  // could not even be recorded.
  Result<state::Deployment> deploy(const DeployOptions& options);

  // Resumes a failed deployment at its failed stage, reusing every resource
  // already created. Rejects a deployment that did not fail, or one past its
  // maximum number of retries.
  Result<state::Deployment> retry(const std::string& deployment_id);

  // The plan of a deployment that `options` would create, with costs,
  // without any mutating AWS call.
  Result<infra::Plan> what_if(const DeployOptions& options);

  Result<TeardownPreview> preview_rollback(const std::string& deployment_id);
  Result<TeardownPreview> preview_destroy(const std::string& deployment_id);

  // Deletes what state records for the deployment, in reverse dependency
  // order, and sets status rolled_back.
  Result<TeardownSummary> rollback(const std::string& deployment_id);

  // Finds every resource tagged with the deployment (including ones the
  // state lost), deletes them, verifies that nothing tagged remains, and sets
  // status destroyed. With `final_snapshot`, databases get a final snapshot.
  Result<TeardownSummary> destroy(const std::string& deployment_id, bool final_snapshot);

  // Builds the version at options.version_ref from the deployment's recorded
  // source and puts it in service. Blue-green: a new instance gets the
  // release, its health is checked, the load balancer switches to it and the
  // old instance is terminated. A failure before the switch leaves the old
  // instance serving and removes the new one. Rolling: the serving instance
  // gets a new release folder, and the previous release is started again
  // when the new one fails its health check. Rejects an unknown id, or a
  // deployment that is not deployed. On an error the deployment is deployed
  // with the version it had, unless the error says otherwise.
  Result<UpdateSummary> update(const std::string& deployment_id, const UpdateOptions& options);

  state::Store& store() { return *store_; }
  aws::AwsClient& client() { return *client_; }

 private:
  Conductor(ConductorSetup setup, std::unique_ptr<state::Store> store, std::unique_ptr<aws::AwsClient> client);

  Result<state::Deployment> run_stages(StageContext& context, state::StageName first_stage);
  Status run_stage(StageContext& context, state::StageName stage);
  StageFunction stage_function(state::StageName stage) const;
  Result<state::Deployment> handle_failure(StageContext& context, state::StageName stage, const Error& error);
  Result<TeardownSummary> teardown_deployment(StageContext& context, const std::vector<state::Resource>& resources,
                                              state::DeploymentStatus during, state::DeploymentStatus after);
  Result<StageContext> load_context(const std::string& deployment_id);
  // Rolls back a deployment whose lock this process holds already.
  Result<TeardownSummary> rollback_locked(StageContext& context);
  Status prepare_infra(StageContext& context);
  Result<UpdateSummary> update_locked(StageContext& context, const UpdateOptions& options);

  ConductorSetup setup_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<aws::AwsClient> client_;
};

// Takes the deployment's lock for the command in `setup`.
Result<state::DeploymentLock> take_lock(const ConductorSetup& setup, const std::string& deployment_id);

std::string to_json(const DeployOptions& options);
Result<DeployOptions> deploy_options_from_json(const std::string& text);

// The persona that runs a stage, as users see it.
const char* agent_of(state::StageName stage);

}  // namespace hivemind::conductor
