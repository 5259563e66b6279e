#pragma once

// The durable state store: every deployment, its stage runs, AWS resources,
// verification results, timeline events, host keys and attributes, in one
// SQLite database at <state_dir>/state.db.
//
// Durability: WAL journal, synchronous=FULL and one transaction per write
// method, so a process killed at any instant leaves the last committed write
// intact and never a partial one. The engine calls record_intent() before
// each AWS create call and record_deleting() before each delete call. A
// resumed run then finds what a killed run may have created by the recorded
// client token.
//
// Failure policy: once a write fails (disk full, I/O error, read-only file),
// the store latches that error and rejects every later write with it until
// the store is reopened, so that no later write lands on top of a lost one.
// Reads keep working.
//
// Thread safety: every method may be called from any thread; a mutex
// serializes them on the one connection. Several processes may open the same
// file: SQLite's locks serialize their writes, waiting up to busy_timeout.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "state/model.h"
#include "state/sqlite.h"

namespace hivemind::state {

struct StoreOptions {
  std::filesystem::path state_dir;  // created when missing
  std::chrono::milliseconds busy_timeout{5000};
  // Caps the database size in pages (of 4096 bytes by default); used to
  // rehearse a full disk. Zero leaves SQLite's own limit.
  std::int64_t max_page_count = 0;
  // Clock for the times the store stamps itself (updated_at). Tests replace it.
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

class Store {
 public:
  // Opens <state_dir>/state.db, creating the folder and the file when
  // missing, checks the file's integrity and migrates it to the latest schema.
  // Errors: state.dir_create_failed, state.read_only, state.corrupt,
  // state.newer_schema, state.disk_full, state.io_error, state.busy.
  static Result<std::unique_ptr<Store>> open(StoreOptions options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  const std::filesystem::path& state_dir() const { return options_.state_dir; }
  std::filesystem::path database_path() const { return options_.state_dir / "state.db"; }
  int schema_version() const { return schema_version_; }

  // The error that latched the store, if a write failed since open().
  std::optional<Error> latched_error() const;

  // Deployments. create_deployment() rejects an id that exists; the other
  // writers return state.not_found for an unknown id.
  Status create_deployment(const Deployment& deployment);
  Status update_deployment(const Deployment& deployment);  // every field but id and created_at
  Status set_status(std::string_view deployment_id, DeploymentStatus status);
  Status record_failure(std::string_view deployment_id, StageName stage, const FailureInfo& failure);
  Status delete_deployment(std::string_view deployment_id);  // with every row that refers to it
  Result<Deployment> find_deployment(std::string_view deployment_id) const;
  Result<std::vector<Deployment>> list_deployments() const;  // oldest first

  // Stage runs. start_stage() returns the new run's id.
  Result<std::int64_t> start_stage(std::string_view deployment_id, StageName stage, int attempt, TimePoint started);
  Status finish_stage(std::int64_t run_id, StageOutcome outcome, TimePoint finished, std::string_view error);
  Result<std::vector<StageRun>> stage_runs(std::string_view deployment_id) const;

  // Resources, called around every AWS mutation:
  //   record_intent -> create call -> record_created or record_create_failed
  //   record_deleting -> delete call -> record_deleted or record_delete_failed
  // record_intent() returns the row as stored. For a logical name that has a
  // row in any status but deleted or create_failed, it changes nothing and
  // returns that row, so a resumed run reuses the original client token. For
  // a deleted or create_failed row, it starts a new intent with a new token.
  Result<Resource> record_intent(const ResourceIntent& intent);
  Status record_created(std::string_view deployment_id, std::string_view logical_name, std::string_view physical_id,
                        std::string_view arn, std::string_view attributes_json);
  Status record_create_failed(std::string_view deployment_id, std::string_view logical_name, std::string_view error);
  Status record_deleting(std::string_view deployment_id, std::string_view logical_name);
  Status record_deleted(std::string_view deployment_id, std::string_view logical_name);
  Status record_delete_failed(std::string_view deployment_id, std::string_view logical_name, std::string_view error);
  Result<std::optional<Resource>> find_resource(std::string_view deployment_id, std::string_view logical_name) const;
  Result<std::vector<Resource>> resources(std::string_view deployment_id) const;  // in creation order
  // Gives each resource recorded under the first name of a pair the second
  // name, pair after pair, all in one transaction: a blue-green update hands
  // the name "instance" to the new instance this way. Rejects, changing
  // nothing, a first name with no row or a second name that has one.
  Status rename_resources(std::string_view deployment_id,
                          const std::vector<std::pair<std::string, std::string>>& renames);

  // Verification results and the timeline, oldest first.
  Result<std::int64_t> add_verification(const VerificationResult& result);
  Result<std::vector<VerificationResult>> verifications(std::string_view deployment_id) const;
  Result<std::int64_t> append_event(const Event& event);
  Result<std::vector<Event>> events(std::string_view deployment_id) const;

  // Host keys, trusted on first use: remember_host_key() stores the first key
  // seen for an instance and returns state.host_key_changed when a different
  // fingerprint is already stored.
  Status remember_host_key(const HostKey& key);
  Result<std::optional<HostKey>> find_host_key(std::string_view deployment_id, std::string_view instance_id) const;

  // Key-value attributes of a deployment (URL, DNS name, dashboard URL...).
  Status set_attribute(std::string_view deployment_id, std::string_view key, std::string_view value);
  Result<std::optional<std::string>> attribute(std::string_view deployment_id, std::string_view key) const;
  Result<std::map<std::string, std::string>> attributes(std::string_view deployment_id) const;

 private:
  // A write body may set its second argument and fail with internal::reject()
  // to reject the request without latching the store.
  using WriteBody = std::function<sqlite::SqlStatus(sqlite::Connection&, std::optional<Error>&)>;
  using ReadBody = std::function<sqlite::SqlStatus(sqlite::Connection&)>;

  Store(StoreOptions options, sqlite::Connection connection, int schema_version);

  // Runs `body` in one IMMEDIATE transaction, latching the store on failure.
  // `deployment_id` (may be empty) goes into the error's remediation.
  Status write(std::string_view operation, std::string_view deployment_id, const WriteBody& body);
  Status read(std::string_view operation, const ReadBody& body) const;
  Status update_resource_status(std::string_view operation, std::string_view deployment_id,
                                std::string_view logical_name, ResourceStatus status, std::string_view error);
  std::int64_t now_ms() const;

  StoreOptions options_;
  int schema_version_;
  mutable std::mutex mutex_;
  mutable sqlite::Connection connection_;  // GUARDED_BY(mutex_)
  std::optional<Error> latched_;           // GUARDED_BY(mutex_)
};

}  // namespace hivemind::state
