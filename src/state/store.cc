#include "state/store.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "common/log.h"
#include "state/schema.h"
#include "state/store_internal.h"

namespace hivemind::state {
namespace {

using internal::from_ms;
using internal::reject;
using internal::storage_error;
using internal::to_ms;

constexpr std::string_view kDeploymentColumns =
    "id, app_name, description, source, version, region, endpoint_kind, status, failed_stage, failure_agent, "
    "failure_action, failure_request_id, failure_message, retry_count, max_retries, created_at_ms, updated_at_ms, "
    "options_json";

Status ensure_state_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    if (!std::filesystem::is_directory(dir, ec)) {
      return fail(make_error("state.dir_create_failed",
                             fmt::format("The state folder {} exists but is not a folder.", dir.string()),
                             "Pass --state-dir with a folder path, or move that file away."));
    }
  } else if (!std::filesystem::create_directories(dir, ec) && ec) {
    return fail(make_error("state.dir_create_failed",
                           fmt::format("Creating the state folder {} failed: {}.", dir.string(), ec.message()),
                           "Create the folder yourself with write access for this user, or pass --state-dir with a "
                           "writable folder. Nothing was written and no AWS call was made."));
  }

  // Root passes every permission check but not a read-only mount (EROFS).
  if (::access(dir.c_str(), W_OK) != 0) {
    const int saved_errno = errno;
    return fail(
        make_error("state.read_only",
                   fmt::format("The state folder {} is not writable: {}.", dir.string(), std::strerror(saved_errno)),
                   "Nothing was changed. Make the folder writable for this user (or remount its file "
                   "system read-write), or pass --state-dir with a writable folder."));
  }
  return ok_unit();
}

sqlite::SqlStatus configure(sqlite::Connection& connection, const StoreOptions& options) {
  sqlite3_busy_timeout(connection.handle(), static_cast<int>(options.busy_timeout.count()));

  // The first statement reads the file header, so a file that is not a
  // database fails here with SQLITE_NOTADB. Switching a new file to WAL needs
  // an exclusive lock. When waiting for a lock could deadlock, SQLite returns
  // SQLITE_BUSY at once without calling the busy handler, as the
  // sqlite3_busy_handler documentation states. Two processes opening a new
  // state folder together can hit this. The pragma takes no lock between
  // attempts, so it is retried until busy_timeout.
  // NOTE: this cause is likely but unproven: the one SQLITE_BUSY seen at open
  // under two parallel deploys did not happen again in later runs.
  const auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
  auto journal = connection.query_text("PRAGMA journal_mode=WAL");
  while (!journal.ok() && journal.error().primary_code() == SQLITE_BUSY &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    journal = connection.query_text("PRAGMA journal_mode=WAL");
  }
  if (!journal.ok()) return fail(std::move(journal).error());
  if (*journal != "wal") {
    return fail(sqlite::Failure{SQLITE_READONLY, "journal mode stayed '" + *journal + "' instead of 'wal'"});
  }

  std::string pragmas = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
  if (options.max_page_count > 0) pragmas += fmt::format(" PRAGMA max_page_count={};", options.max_page_count);
  return connection.exec(pragmas);
}

sqlite::SqlStatus check_integrity(sqlite::Connection& connection) {
  auto verdict = connection.query_text("PRAGMA quick_check");
  if (!verdict.ok()) return fail(std::move(verdict).error());
  if (*verdict != "ok") return fail(sqlite::Failure{SQLITE_CORRUPT, "quick_check: " + *verdict});
  return ok_unit();
}

Error newer_schema_error(const std::filesystem::path& database, int found) {
  return make_error("state.newer_schema",
                    fmt::format("The state database {} has schema version {}, newer than the {} this hivemind "
                                "build understands.",
                                database.string(), found, schema::latest_version()),
                    "Run a newer hivemind with this state folder; this build changed nothing.");
}

Error not_found_error(std::string_view deployment_id) {
  return make_error("state.not_found", fmt::format("No deployment with id {} is recorded in the state.", deployment_id),
                    "Run `hivemind status` to list the recorded deployments, or pass --state-dir if the deployment "
                    "was made with another state folder.");
}

Deployment read_deployment(const sqlite::Statement& row) {
  Deployment d;
  d.id = row.column_text(0);
  d.app_name = row.column_text(1);
  d.description = row.column_text(2);
  d.source = row.column_text(3);
  d.version = row.column_text(4);
  d.region = row.column_text(5);
  d.endpoint_kind = parse_endpoint_kind(row.column_text(6)).value_or(EndpointKind::aws);
  d.status = parse_deployment_status(row.column_text(7)).value_or(DeploymentStatus::failed);
  if (!row.column_is_null(8)) d.failed_stage = parse_stage_name(row.column_text(8));
  if (!row.column_is_null(12)) {
    d.failure = FailureInfo{row.column_text(9), row.column_text(10), row.column_text(11), row.column_text(12)};
  }
  d.retry_count = static_cast<int>(row.column_int(13));
  d.max_retries = static_cast<int>(row.column_int(14));
  d.created_at = from_ms(row.column_int(15));
  d.updated_at = from_ms(row.column_int(16));
  d.options_json = row.column_text(17);
  return d;
}

std::optional<std::string> failure_field(const Deployment& d, std::string FailureInfo::*field) {
  if (!d.failure) return std::nullopt;
  return (*d.failure).*field;
}

std::optional<std::string> stage_text(const std::optional<StageName>& stage) {
  if (!stage) return std::nullopt;
  return std::string(to_string(*stage));
}

// Binds the 15 mutable columns of `d`, app_name to options_json in the order
// of the INSERT and UPDATE statements below, starting at parameter `first`.
void bind_mutable_fields(sqlite::Statement& statement, int first, const Deployment& d) {
  int i = first;
  statement.bind(i++, d.app_name);
  statement.bind(i++, d.description);
  statement.bind(i++, d.source);
  statement.bind(i++, d.version);
  statement.bind(i++, d.region);
  statement.bind(i++, to_string(d.endpoint_kind));
  statement.bind(i++, to_string(d.status));
  statement.bind(i++, stage_text(d.failed_stage));
  statement.bind(i++, failure_field(d, &FailureInfo::agent));
  statement.bind(i++, failure_field(d, &FailureInfo::action));
  statement.bind(i++, failure_field(d, &FailureInfo::aws_request_id));
  statement.bind(i++, failure_field(d, &FailureInfo::message));
  statement.bind(i++, d.retry_count);
  statement.bind(i++, d.max_retries);
  statement.bind(i++, d.options_json);
}

// Fails with a rejection when the last statement changed no row.
sqlite::SqlStatus require_change(sqlite::Connection& connection, std::optional<Error>& rejection, Error error) {
  if (sqlite3_changes(connection.handle()) == 0) return fail(reject(rejection, std::move(error)));
  return ok_unit();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(StoreOptions options) {
  auto logger = log::get("state");
  const std::filesystem::path database = options.state_dir / "state.db";

  if (auto made = ensure_state_dir(options.state_dir); !made.ok()) return fail(made.error());

  auto connection = sqlite::Connection::open(database);
  if (!connection.ok()) return fail(storage_error("open", database, "", connection.error()));
  if (auto configured = configure(*connection, options); !configured.ok()) {
    return fail(storage_error("open", database, "", configured.error()));
  }
  if (connection->is_read_only()) {
    return fail(storage_error("open", database, "", sqlite::Failure{SQLITE_READONLY, "file opened read-only"}));
  }
  if (auto checked = check_integrity(*connection); !checked.ok()) {
    return fail(storage_error("integrity check", database, "", checked.error()));
  }

  auto found = schema::current_version(*connection);
  if (!found.ok()) return fail(storage_error("schema check", database, "", found.error()));
  if (*found > schema::latest_version()) return fail(newer_schema_error(database, *found));

  const std::int64_t now = to_ms(options.clock());
  if (auto migrated = schema::migrate(*connection, schema::latest_version(), now); !migrated.ok()) {
    return fail(storage_error("schema migration", database, "", migrated.error()));
  }
  if (*found != schema::latest_version()) {
    logger->info("migrated {} from schema version {} to {}", database.string(), *found, schema::latest_version());
  }

  return std::unique_ptr<Store>(new Store(std::move(options), std::move(connection).value(), schema::latest_version()));
}

Store::Store(StoreOptions options, sqlite::Connection connection, int schema_version)
    : options_(std::move(options)), schema_version_(schema_version), connection_(std::move(connection)) {}

Store::~Store() = default;

std::optional<Error> Store::latched_error() const {
  std::lock_guard lock(mutex_);
  return latched_;
}

std::int64_t Store::now_ms() const { return to_ms(options_.clock()); }

Status Store::write(std::string_view operation, std::string_view deployment_id, const WriteBody& body) {
  std::lock_guard lock(mutex_);
  if (latched_) {
    return fail(make_error(
        "state.latched",
        fmt::format("State write {} was rejected because an earlier write failed: {}", operation, latched_->message),
        latched_->remediation + " Then run the command again; it reopens the state."));
  }

  std::optional<Error> rejection;
  auto outcome = connection_.exec("BEGIN IMMEDIATE");
  if (outcome.ok()) outcome = body(connection_, rejection);
  if (outcome.ok()) outcome = connection_.exec("COMMIT");
  if (outcome.ok()) return ok_unit();

  // ROLLBACK fails harmlessly when BEGIN failed or SQLite already rolled back.
  (void)connection_.exec("ROLLBACK");
  if (rejection) return fail(*std::move(rejection));
  if (outcome.error().primary_code() == SQLITE_CONSTRAINT) {
    // The schema rejected the request and SQLite rolled the statement back, so
    // no earlier write is lost and the store does not latch.
    return fail(make_error("state.invalid_write",
                           fmt::format("State write {} for deployment {} was rejected by the schema: {}.", operation,
                                       deployment_id, outcome.error().message),
                           "Create the deployment before recording anything about it; this is a bug in the caller."));
  }
  if (outcome.error().primary_code() == SQLITE_BUSY) {
    // Nothing was written, so the store stays usable.
    return fail(storage_error(operation, database_path(), deployment_id, outcome.error()));
  }

  latched_ = storage_error(operation, database_path(), deployment_id, outcome.error());
  log::get("state")->error("state write {} failed, store latched: {}", operation, latched_->message);
  return fail(*latched_);
}

Status Store::read(std::string_view operation, const ReadBody& body) const {
  std::lock_guard lock(mutex_);
  auto outcome = body(connection_);
  if (!outcome.ok()) return fail(storage_error(operation, database_path(), "", outcome.error()));
  return ok_unit();
}

Status Store::create_deployment(const Deployment& deployment) {
  return write("create deployment", deployment.id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto exists = db.prepare("SELECT 1 FROM deployments WHERE id = ?");
    if (!exists.ok()) return sqlite::SqlStatus(fail(std::move(exists).error()));
    exists->bind(1, deployment.id);
    if (exists->step() == SQLITE_ROW) {
      return sqlite::SqlStatus(fail(reject(
          rejection,
          make_error("state.duplicate_id", fmt::format("A deployment with id {} is already recorded.", deployment.id),
                     "Make a new id with make_deployment_id(); ids must be unique within a state folder."))));
    }

    auto insert = db.prepare(
        "INSERT INTO deployments (id, app_name, description, source, version, region, endpoint_kind, status, "
        "failed_stage, failure_agent, failure_action, failure_request_id, failure_message, retry_count, max_retries, "
        "options_json, created_at_ms, updated_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!insert.ok()) return sqlite::SqlStatus(fail(std::move(insert).error()));
    insert->bind(1, deployment.id);
    bind_mutable_fields(*insert, 2, deployment);
    insert->bind(17, to_ms(deployment.created_at));
    insert->bind(18, now_ms());
    return db.run(*insert);
  });
}

Status Store::update_deployment(const Deployment& deployment) {
  return write("update deployment", deployment.id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update = db.prepare(
        "UPDATE deployments SET app_name=?, description=?, source=?, version=?, region=?, endpoint_kind=?, status=?, "
        "failed_stage=?, failure_agent=?, failure_action=?, failure_request_id=?, failure_message=?, retry_count=?, "
        "max_retries=?, options_json=?, updated_at_ms=? WHERE id=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    bind_mutable_fields(*update, 1, deployment);
    update->bind(16, now_ms());
    update->bind(17, deployment.id);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    return require_change(db, rejection, not_found_error(deployment.id));
  });
}

Status Store::set_status(std::string_view deployment_id, DeploymentStatus status) {
  return write("set deployment status", deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update = db.prepare("UPDATE deployments SET status=?, updated_at_ms=? WHERE id=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    update->bind_all(to_string(status), now_ms(), deployment_id);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    return require_change(db, rejection, not_found_error(deployment_id));
  });
}

Status Store::record_failure(std::string_view deployment_id, StageName stage, const FailureInfo& failure) {
  return write("record failure", deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update = db.prepare(
        "UPDATE deployments SET status=?, failed_stage=?, failure_agent=?, failure_action=?, failure_request_id=?, "
        "failure_message=?, updated_at_ms=? WHERE id=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    update->bind_all(to_string(DeploymentStatus::failed), to_string(stage), failure.agent, failure.action,
                     failure.aws_request_id, failure.message, now_ms(), deployment_id);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    return require_change(db, rejection, not_found_error(deployment_id));
  });
}

Status Store::delete_deployment(std::string_view deployment_id) {
  return write("delete deployment", deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto erase = db.prepare("DELETE FROM deployments WHERE id=?");
    if (!erase.ok()) return sqlite::SqlStatus(fail(std::move(erase).error()));
    erase->bind(1, deployment_id);
    if (auto ran = db.run(*erase); !ran.ok()) return ran;
    return require_change(db, rejection, not_found_error(deployment_id));
  });
}

Result<Deployment> Store::find_deployment(std::string_view deployment_id) const {
  std::optional<Deployment> found;
  auto outcome = read("find deployment", [&](sqlite::Connection& db) {
    auto query = db.prepare(fmt::format("SELECT {} FROM deployments WHERE id=?", kDeploymentColumns));
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    const int rc = query->step();
    if (rc == SQLITE_ROW) found = read_deployment(*query);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::SqlStatus(fail(db.failure(rc)));
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  if (!found) return fail(not_found_error(deployment_id));
  return *std::move(found);
}

Result<std::vector<Deployment>> Store::list_deployments() const {
  std::vector<Deployment> list;
  auto outcome = read("list deployments", [&](sqlite::Connection& db) {
    auto query = db.prepare(fmt::format("SELECT {} FROM deployments ORDER BY created_at_ms, id", kDeploymentColumns));
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    return internal::collect_rows(db, *query, list, read_deployment);
  });
  if (!outcome.ok()) return fail(outcome.error());
  return list;
}

}  // namespace hivemind::state
