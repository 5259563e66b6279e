#include "state/schema.h"

#include <array>
#include <cassert>
#include <string>

namespace hivemind::state::schema {
namespace {

// Version 1: deployments, stage runs, resources, events, host keys and
// attributes. Times are milliseconds since the Unix epoch (UTC).
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  app_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  endpoint_kind TEXT NOT NULL,
  status TEXT NOT NULL,
  failed_stage TEXT,
  failure_agent TEXT,
  failure_action TEXT,
  failure_request_id TEXT,
  failure_message TEXT,
  retry_count INTEGER NOT NULL DEFAULT 0,
  max_retries INTEGER NOT NULL DEFAULT 3,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  options_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE stage_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  outcome TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE resources (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  logical_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  client_token TEXT NOT NULL,
  physical_id TEXT NOT NULL DEFAULT '',
  arn TEXT NOT NULL DEFAULT '',
  attributes_json TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT '',
  creation_order INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (deployment_id, logical_name)
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  time_ms INTEGER NOT NULL,
  agent TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE host_keys (
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  instance_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, instance_id)
);
CREATE TABLE attributes (
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (deployment_id, key)
);
)sql";

// Version 2: estimated monthly cost per resource, verification results, and
// indexes for the per-deployment timeline and stage history.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE resources ADD COLUMN estimated_monthly_cost_usd REAL NOT NULL DEFAULT 0;
CREATE TABLE verifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  check_name TEXT NOT NULL,
  passed INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  checked_at_ms INTEGER NOT NULL
);
CREATE INDEX events_by_deployment ON events (deployment_id, id);
CREATE INDEX stage_runs_by_deployment ON stage_runs (deployment_id, id);
)sql";

constexpr std::array<std::string_view, 2> kMigrations{kVersion1, kVersion2};

constexpr std::string_view kVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at_ms INTEGER NOT NULL)";

sqlite::SqlStatus apply_one(sqlite::Connection& connection, int version, std::int64_t now_ms) {
  if (auto begun = connection.exec("BEGIN IMMEDIATE"); !begun.ok()) return begun;

  // Another process may have applied this version while this one waited for
  // the write lock, so the check is repeated inside the transaction.
  auto current = current_version(connection);
  if (!current.ok()) {
    (void)connection.exec("ROLLBACK");
    return fail(std::move(current).error());
  }
  if (*current >= version) return connection.exec("COMMIT");

  auto body = connection.exec(std::string(kVersionTable) + ";" + std::string(kMigrations[version - 1]));
  if (body.ok()) {
    auto insert = connection.prepare("INSERT INTO schema_version (version, applied_at_ms) VALUES (?, ?)");
    if (!insert.ok()) {
      body = fail(std::move(insert).error());
    } else {
      insert->bind_all(static_cast<std::int64_t>(version), now_ms);
      body = connection.run(*insert);
    }
  }
  if (body.ok()) body = connection.exec("COMMIT");

  if (!body.ok()) {
    // The failed migration leaves no trace: the next open starts it again.
    (void)connection.exec("ROLLBACK");
  }
  return body;
}

}  // namespace

int latest_version() { return static_cast<int>(kMigrations.size()); }

sqlite::SqlResult<int> current_version(sqlite::Connection& connection) {
  auto exists = connection.query_text("SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'");
  if (!exists.ok()) return fail(std::move(exists).error());
  if (exists->empty()) return 0;

  auto version = connection.query_text("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!version.ok()) return fail(std::move(version).error());
  return std::stoi(*version);
}

sqlite::SqlStatus migrate(sqlite::Connection& connection, int target_version, std::int64_t now_ms) {
  auto current = current_version(connection);
  if (!current.ok()) return fail(std::move(current).error());
  assert(*current <= target_version);
  assert(target_version <= latest_version());

  for (int version = *current + 1; version <= target_version; ++version) {
    if (auto applied = apply_one(connection, version, now_ms); !applied.ok()) return applied;
  }
  return ok_unit();
}

}  // namespace hivemind::state::schema
