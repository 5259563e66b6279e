// The append-mostly records of the store: stage runs, verification results,
// timeline events, host keys and attributes.

#include <fmt/format.h>

#include "state/store.h"
#include "state/store_internal.h"

namespace hivemind::state {
namespace {

using internal::from_ms;
using internal::reject;
using internal::to_ms;

StageRun read_stage_run(const sqlite::Statement& row) {
  StageRun run;
  run.id = row.column_int(0);
  run.deployment_id = row.column_text(1);
  run.stage = parse_stage_name(row.column_text(2)).value_or(StageName::analyze);
  run.attempt = static_cast<int>(row.column_int(3));
  run.started_at = from_ms(row.column_int(4));
  if (!row.column_is_null(5)) run.finished_at = from_ms(row.column_int(5));
  run.outcome = parse_stage_outcome(row.column_text(6)).value_or(StageOutcome::failed);
  run.error = row.column_text(7);
  return run;
}

VerificationResult read_verification(const sqlite::Statement& row) {
  VerificationResult result;
  result.id = row.column_int(0);
  result.deployment_id = row.column_text(1);
  result.check = row.column_text(2);
  result.passed = row.column_int(3) != 0;
  result.detail = row.column_text(4);
  result.checked_at = from_ms(row.column_int(5));
  return result;
}

Event read_event(const sqlite::Statement& row) {
  Event event;
  event.id = row.column_int(0);
  event.deployment_id = row.column_text(1);
  event.time = from_ms(row.column_int(2));
  event.agent = row.column_text(3);
  event.action = row.column_text(4);
  event.outcome = row.column_text(5);
  event.detail = row.column_text(6);
  return event;
}

Error host_key_changed(const HostKey& offered, std::string_view stored) {
  return make_error(
      "state.host_key_changed",
      fmt::format("The SSH host key of instance {} (deployment {}) changed: expected {}, got {}.", offered.instance_id,
                  offered.deployment_id, stored, offered.fingerprint),
      "Do not connect: the host may be impersonated. If the instance was replaced on purpose, remove its host key "
      "from the state and connect again.");
}

}  // namespace

Result<std::int64_t> Store::start_stage(std::string_view deployment_id, StageName stage, int attempt,
                                        TimePoint started) {
  std::int64_t id = 0;
  auto outcome = write("start stage", deployment_id, [&](sqlite::Connection& db, std::optional<Error>&) {
    auto insert = db.prepare(
        "INSERT INTO stage_runs (deployment_id, stage, attempt, started_at_ms, outcome) VALUES (?, ?, ?, ?, ?)");
    if (!insert.ok()) return sqlite::SqlStatus(fail(std::move(insert).error()));
    insert->bind_all(deployment_id, to_string(stage), attempt, to_ms(started), to_string(StageOutcome::running));
    if (auto ran = db.run(*insert); !ran.ok()) return ran;
    id = db.last_insert_rowid();
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return id;
}

Status Store::finish_stage(std::int64_t run_id, StageOutcome outcome, TimePoint finished, std::string_view error) {
  return write("finish stage", "", [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update = db.prepare("UPDATE stage_runs SET outcome=?, finished_at_ms=?, error=? WHERE id=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    update->bind_all(to_string(outcome), to_ms(finished), error, run_id);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    if (sqlite3_changes(db.handle()) == 0) {
      return sqlite::SqlStatus(
          fail(reject(rejection, make_error("state.not_found", fmt::format("No stage run {} is recorded.", run_id),
                                            "Pass the id that start_stage() returned."))));
    }
    return sqlite::SqlStatus(ok_unit());
  });
}

Result<std::vector<StageRun>> Store::stage_runs(std::string_view deployment_id) const {
  std::vector<StageRun> runs;
  auto outcome = read("list stage runs", [&](sqlite::Connection& db) {
    auto query = db.prepare(
        "SELECT id, deployment_id, stage, attempt, started_at_ms, finished_at_ms, outcome, error FROM stage_runs "
        "WHERE deployment_id=? ORDER BY id");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    return internal::collect_rows(db, *query, runs, read_stage_run);
  });
  if (!outcome.ok()) return fail(outcome.error());
  return runs;
}

Result<std::int64_t> Store::add_verification(const VerificationResult& result) {
  std::int64_t id = 0;
  auto outcome = write("add verification", result.deployment_id, [&](sqlite::Connection& db, std::optional<Error>&) {
    auto insert = db.prepare(
        "INSERT INTO verifications (deployment_id, check_name, passed, detail, checked_at_ms) VALUES (?, ?, ?, ?, ?)");
    if (!insert.ok()) return sqlite::SqlStatus(fail(std::move(insert).error()));
    insert->bind_all(result.deployment_id, result.check, result.passed ? 1 : 0, result.detail,
                     to_ms(result.checked_at));
    if (auto ran = db.run(*insert); !ran.ok()) return ran;
    id = db.last_insert_rowid();
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return id;
}

Result<std::vector<VerificationResult>> Store::verifications(std::string_view deployment_id) const {
  std::vector<VerificationResult> results;
  auto outcome = read("list verifications", [&](sqlite::Connection& db) {
    auto query = db.prepare(
        "SELECT id, deployment_id, check_name, passed, detail, checked_at_ms FROM verifications WHERE deployment_id=? "
        "ORDER BY id");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    return internal::collect_rows(db, *query, results, read_verification);
  });
  if (!outcome.ok()) return fail(outcome.error());
  return results;
}

Result<std::int64_t> Store::append_event(const Event& event) {
  std::int64_t id = 0;
  auto outcome = write("append event", event.deployment_id, [&](sqlite::Connection& db, std::optional<Error>&) {
    auto insert = db.prepare(
        "INSERT INTO events (deployment_id, time_ms, agent, action, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return sqlite::SqlStatus(fail(std::move(insert).error()));
    insert->bind_all(event.deployment_id, to_ms(event.time), event.agent, event.action, event.outcome, event.detail);
    if (auto ran = db.run(*insert); !ran.ok()) return ran;
    id = db.last_insert_rowid();
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return id;
}

Result<std::vector<Event>> Store::events(std::string_view deployment_id) const {
  std::vector<Event> list;
  auto outcome = read("list events", [&](sqlite::Connection& db) {
    auto query = db.prepare(
        "SELECT id, deployment_id, time_ms, agent, action, outcome, detail FROM events WHERE deployment_id=? "
        "ORDER BY id");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    return internal::collect_rows(db, *query, list, read_event);
  });
  if (!outcome.ok()) return fail(outcome.error());
  return list;
}

Status Store::remember_host_key(const HostKey& key) {
  return write("remember host key", key.deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto existing = db.prepare("SELECT fingerprint FROM host_keys WHERE deployment_id=? AND instance_id=?");
    if (!existing.ok()) return sqlite::SqlStatus(fail(std::move(existing).error()));
    existing->bind_all(key.deployment_id, key.instance_id);
    const int rc = existing->step();
    if (rc == SQLITE_ROW) {
      const std::string stored = existing->column_text(0);
      if (stored == key.fingerprint) return sqlite::SqlStatus(ok_unit());
      return sqlite::SqlStatus(fail(reject(rejection, host_key_changed(key, stored))));
    }
    if (rc != SQLITE_DONE) return sqlite::SqlStatus(fail(db.failure(rc)));

    auto insert = db.prepare(
        "INSERT INTO host_keys (deployment_id, instance_id, fingerprint, first_seen_ms) VALUES (?, ?, ?, ?)");
    if (!insert.ok()) return sqlite::SqlStatus(fail(std::move(insert).error()));
    insert->bind_all(key.deployment_id, key.instance_id, key.fingerprint, to_ms(key.first_seen));
    return db.run(*insert);
  });
}

Result<std::optional<HostKey>> Store::find_host_key(std::string_view deployment_id,
                                                    std::string_view instance_id) const {
  std::optional<HostKey> found;
  auto outcome = read("find host key", [&](sqlite::Connection& db) {
    auto query = db.prepare("SELECT fingerprint, first_seen_ms FROM host_keys WHERE deployment_id=? AND instance_id=?");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind_all(deployment_id, instance_id);
    const int rc = query->step();
    if (rc == SQLITE_ROW) {
      found = HostKey{std::string(deployment_id), std::string(instance_id), query->column_text(0),
                      from_ms(query->column_int(1))};
    } else if (rc != SQLITE_DONE) {
      return sqlite::SqlStatus(fail(db.failure(rc)));
    }
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return found;
}

Status Store::set_attribute(std::string_view deployment_id, std::string_view key, std::string_view value) {
  return write("set attribute", deployment_id, [&](sqlite::Connection& db, std::optional<Error>&) {
    auto upsert = db.prepare(
        "INSERT INTO attributes (deployment_id, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (deployment_id, key) DO UPDATE SET value=excluded.value");
    if (!upsert.ok()) return sqlite::SqlStatus(fail(std::move(upsert).error()));
    upsert->bind_all(deployment_id, key, value);
    return db.run(*upsert);
  });
}

Result<std::optional<std::string>> Store::attribute(std::string_view deployment_id, std::string_view key) const {
  std::optional<std::string> value;
  auto outcome = read("read attribute", [&](sqlite::Connection& db) {
    auto query = db.prepare("SELECT value FROM attributes WHERE deployment_id=? AND key=?");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind_all(deployment_id, key);
    const int rc = query->step();
    if (rc == SQLITE_ROW) {
      value = query->column_text(0);
    } else if (rc != SQLITE_DONE) {
      return sqlite::SqlStatus(fail(db.failure(rc)));
    }
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return value;
}

Result<std::map<std::string, std::string>> Store::attributes(std::string_view deployment_id) const {
  std::map<std::string, std::string> values;
  auto outcome = read("list attributes", [&](sqlite::Connection& db) {
    auto query = db.prepare("SELECT key, value FROM attributes WHERE deployment_id=?");
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    int rc;
    while ((rc = query->step()) == SQLITE_ROW) values[query->column_text(0)] = query->column_text(1);
    if (rc != SQLITE_DONE) return sqlite::SqlStatus(fail(db.failure(rc)));
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return values;
}

}  // namespace hivemind::state
