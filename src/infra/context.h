#pragma once

// What the provisioner and the teardown share while they work on one
// deployment: the AWS client, the state store, the plan, where to report
// progress, and how long to wait for each kind of resource.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "common/result.h"
#include "infra/plan.h"
#include "state/model.h"
#include "state/store.h"

namespace hivemind::infra {

// A progress report from the provisioner or the teardown, for the CLI.
struct ResourceEvent {
  enum class Kind {
    kCreating,  // the create call is about to be sent
    kWaiting,   // waiting for the resource to become ready or to go away
    kCreated,   // created and ready
    kAdopted,   // found in AWS by its token or name, created by an earlier run
    kReused,    // recorded as created by an earlier run: nothing to do
    kCreateFailed,
    kDeleting,
    kDeleted,
    kAlreadyGone,  // not found in AWS: counts as deleted
    kDeleteFailed,
  };

  Kind kind = Kind::kCreating;
  std::string resource;  // logical name
  std::string resource_kind;
  std::string physical_id;
  std::string detail;  // what is awaited, or the error
  std::chrono::milliseconds elapsed{0};
};

using ResourceEventSink = std::function<void(const ResourceEvent&)>;

// Polling with capped exponential backoff and a total timeout per kind.
struct WaitPolicy {
  std::chrono::milliseconds first_delay{1000};
  std::chrono::milliseconds max_delay{15000};
  std::chrono::seconds default_timeout{600};
  std::map<ResourceKind, std::chrono::seconds> timeouts = {
      {ResourceKind::kInstance, std::chrono::seconds(600)},
      {ResourceKind::kDbInstance, std::chrono::seconds(2400)},
      {ResourceKind::kLoadBalancer, std::chrono::seconds(900)},
  };
  // How many times a delete that AWS rejects with DependencyViolation (or a
  // resource-in-use error) is tried again while its blocker goes away.
  int dependency_retries = 30;
  std::function<void(std::chrono::milliseconds)> sleep;  // empty: sleep for real

  std::chrono::seconds timeout_for(ResourceKind kind) const;
};

// Why a resource failed, for the deployment's failure record.
struct ResourceFailure {
  std::string resource;
  std::string action;  // e.g. "ec2:CreateVpc"
  std::string aws_request_id;
  Error error;
  // The call may have reached AWS and done its work: no response, or a 5xx.
  // A create that failed this way keeps its intent, so a retry adopts
  // whatever the call created instead of making a second one.
  bool ambiguous = false;
};

class InfraContext {
 public:
  InfraContext(aws::AwsClient& client, state::Store& store, PlanInputs inputs, Plan plan,
               std::filesystem::path deployment_dir);

  aws::AwsClient& client() { return client_; }
  state::Store& store() { return store_; }
  const PlanInputs& inputs() const { return inputs_; }
  const Plan& plan() const { return plan_; }
  const std::filesystem::path& deployment_dir() const { return deployment_dir_; }

  WaitPolicy wait;
  ResourceEventSink on_event;
  std::size_t max_workers = 8;
  const std::atomic<bool>* cancel = nullptr;
  bool skip_final_snapshot = false;

  void emit(ResourceEvent event) const;

  // Returns the physical id recorded for `logical_name`, or an error when the
  // resource is not created yet.
  Result<std::string> physical_id(const std::string& logical_name) const;
  // Returns the recorded attributes of a created resource.
  Result<nlohmann::json> attributes(const std::string& logical_name) const;

  // The availability zones to use, looked up once: the first two available
  // zones in name order.
  Result<std::vector<std::string>> zones();

  void record_failure(ResourceFailure failure);
  std::vector<ResourceFailure> failures() const;
  // The last failure recorded for `resource`, if any.
  std::optional<ResourceFailure> last_failure(const std::string& resource) const;

  // Polls `probe` until it returns true, with backoff, reporting a kWaiting
  // event with the elapsed time. `what` names what is awaited.
  Status wait_until(const std::string& resource, ResourceKind kind, const std::string& what,
                    const std::function<Result<bool>()>& probe);

 private:
  aws::AwsClient& client_;
  state::Store& store_;
  PlanInputs inputs_;
  Plan plan_;
  std::filesystem::path deployment_dir_;

  mutable std::mutex mutex_;  // guards zones_ and failures_
  std::optional<std::vector<std::string>> zones_;
  std::vector<ResourceFailure> failures_;
};

// Converts an AWS error into a ResourceFailure and the generic error.
Error record_aws_failure(InfraContext& context, const std::string& resource, const aws::AwsError& error);

}  // namespace hivemind::infra
