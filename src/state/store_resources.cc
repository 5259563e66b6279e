// The resource half of the store: the records written around every AWS
// create and delete call.

#include <fmt/format.h>

#include <random>

#include "state/store.h"
#include "state/store_internal.h"

namespace hivemind::state {
namespace {

using internal::from_ms;
using internal::reject;
using internal::to_ms;

constexpr std::string_view kResourceColumns =
    "id, deployment_id, logical_name, kind, status, client_token, physical_id, arn, attributes_json, error, "
    "estimated_monthly_cost_usd, creation_order, created_at_ms, updated_at_ms";

// AWS limits ClientToken to 64 ASCII characters.
constexpr std::size_t kMaxTokenLength = 64;

Resource read_resource(const sqlite::Statement& row) {
  Resource r;
  r.id = row.column_int(0);
  r.deployment_id = row.column_text(1);
  r.logical_name = row.column_text(2);
  r.kind = row.column_text(3);
  r.status = parse_resource_status(row.column_text(4)).value_or(ResourceStatus::creating);
  r.client_token = row.column_text(5);
  r.physical_id = row.column_text(6);
  r.arn = row.column_text(7);
  r.attributes_json = row.column_text(8);
  r.error = row.column_text(9);
  r.estimated_monthly_cost_usd = row.column_double(10);
  r.creation_order = row.column_int(11);
  r.created_at = from_ms(row.column_int(12));
  r.updated_at = from_ms(row.column_int(13));
  return r;
}

// Makes "<deployment id>-<logical name>-<8 hex>", cut to kMaxTokenLength
// with the random part kept, so every intent gets a token of its own.
std::string make_client_token(std::string_view deployment_id, std::string_view logical_name) {
  std::random_device entropy;
  const std::string random_part = fmt::format("{:08x}", entropy());
  std::string prefix = fmt::format("{}-{}-", deployment_id, logical_name);
  if (prefix.size() + random_part.size() > kMaxTokenLength) prefix.resize(kMaxTokenLength - random_part.size());
  return prefix + random_part;
}

Error resource_not_found(std::string_view deployment_id, std::string_view logical_name) {
  return make_error("state.resource_not_found",
                    fmt::format("No resource named {} is recorded for deployment {}.", logical_name, deployment_id),
                    "Call record_intent() before the create call; this is a bug in the caller.");
}

sqlite::SqlResult<std::optional<Resource>> select_resource(sqlite::Connection& db, std::string_view deployment_id,
                                                           std::string_view logical_name) {
  auto query =
      db.prepare(fmt::format("SELECT {} FROM resources WHERE deployment_id=? AND logical_name=?", kResourceColumns));
  if (!query.ok()) return fail(std::move(query).error());
  query->bind_all(deployment_id, logical_name);

  const int rc = query->step();
  if (rc == SQLITE_ROW) return std::optional<Resource>(read_resource(*query));
  if (rc == SQLITE_DONE) return std::optional<Resource>();
  return fail(db.failure(rc));
}

bool starts_new_intent(ResourceStatus status) {
  return status == ResourceStatus::deleted || status == ResourceStatus::create_failed;
}

}  // namespace

Result<Resource> Store::record_intent(const ResourceIntent& intent) {
  std::optional<Resource> stored;
  const std::string token =
      intent.client_token.empty() ? make_client_token(intent.deployment_id, intent.logical_name) : intent.client_token;

  auto outcome = write("record intent", intent.deployment_id, [&](sqlite::Connection& db, std::optional<Error>&) {
    auto existing = select_resource(db, intent.deployment_id, intent.logical_name);
    if (!existing.ok()) return sqlite::SqlStatus(fail(std::move(existing).error()));
    if (*existing && !starts_new_intent((*existing)->status)) {
      stored = **existing;
      return sqlite::SqlStatus(ok_unit());
    }

    // creation_order is store-wide, so it also orders intents of one deployment.
    auto upsert = db.prepare(
        "INSERT INTO resources (deployment_id, logical_name, kind, status, client_token, physical_id, arn, "
        "attributes_json, error, estimated_monthly_cost_usd, creation_order, created_at_ms, updated_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, '', '', '{}', '', ?6, "
        "(SELECT COALESCE(MAX(creation_order), 0) + 1 FROM resources), ?7, ?7) "
        "ON CONFLICT (deployment_id, logical_name) DO UPDATE SET kind=excluded.kind, status=excluded.status, "
        "client_token=excluded.client_token, physical_id='', arn='', attributes_json='{}', error='', "
        "estimated_monthly_cost_usd=excluded.estimated_monthly_cost_usd, creation_order=excluded.creation_order, "
        "created_at_ms=excluded.created_at_ms, updated_at_ms=excluded.updated_at_ms");
    if (!upsert.ok()) return sqlite::SqlStatus(fail(std::move(upsert).error()));
    upsert->bind_all(intent.deployment_id, intent.logical_name, intent.kind, to_string(ResourceStatus::creating), token,
                     intent.estimated_monthly_cost_usd, now_ms());
    if (auto ran = db.run(*upsert); !ran.ok()) return ran;

    auto reread = select_resource(db, intent.deployment_id, intent.logical_name);
    if (!reread.ok()) return sqlite::SqlStatus(fail(std::move(reread).error()));
    stored = **reread;
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return *std::move(stored);
}

Status Store::record_created(std::string_view deployment_id, std::string_view logical_name,
                             std::string_view physical_id, std::string_view arn, std::string_view attributes_json) {
  return write("record created", deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update = db.prepare(
        "UPDATE resources SET status=?, physical_id=?, arn=?, attributes_json=?, error='', updated_at_ms=? "
        "WHERE deployment_id=? AND logical_name=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    update->bind_all(to_string(ResourceStatus::created), physical_id, arn,
                     attributes_json.empty() ? std::string_view("{}") : attributes_json, now_ms(), deployment_id,
                     logical_name);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    if (sqlite3_changes(db.handle()) == 0) {
      return sqlite::SqlStatus(fail(reject(rejection, resource_not_found(deployment_id, logical_name))));
    }
    return sqlite::SqlStatus(ok_unit());
  });
}

Status Store::record_create_failed(std::string_view deployment_id, std::string_view logical_name,
                                   std::string_view error) {
  return update_resource_status("record create failed", deployment_id, logical_name, ResourceStatus::create_failed,
                                error);
}

Status Store::record_deleting(std::string_view deployment_id, std::string_view logical_name) {
  return update_resource_status("record deleting", deployment_id, logical_name, ResourceStatus::deleting, "");
}

Status Store::record_deleted(std::string_view deployment_id, std::string_view logical_name) {
  return update_resource_status("record deleted", deployment_id, logical_name, ResourceStatus::deleted, "");
}

Status Store::record_delete_failed(std::string_view deployment_id, std::string_view logical_name,
                                   std::string_view error) {
  return update_resource_status("record delete failed", deployment_id, logical_name, ResourceStatus::delete_failed,
                                error);
}

Status Store::update_resource_status(std::string_view operation, std::string_view deployment_id,
                                     std::string_view logical_name, ResourceStatus status, std::string_view error) {
  return write(operation, deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    auto update =
        db.prepare("UPDATE resources SET status=?, error=?, updated_at_ms=? WHERE deployment_id=? AND logical_name=?");
    if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
    update->bind_all(to_string(status), error, now_ms(), deployment_id, logical_name);
    if (auto ran = db.run(*update); !ran.ok()) return ran;
    if (sqlite3_changes(db.handle()) == 0) {
      return sqlite::SqlStatus(fail(reject(rejection, resource_not_found(deployment_id, logical_name))));
    }
    return sqlite::SqlStatus(ok_unit());
  });
}

Result<std::optional<Resource>> Store::find_resource(std::string_view deployment_id,
                                                     std::string_view logical_name) const {
  std::optional<Resource> found;
  auto outcome = read("find resource", [&](sqlite::Connection& db) {
    auto selected = select_resource(db, deployment_id, logical_name);
    if (!selected.ok()) return sqlite::SqlStatus(fail(std::move(selected).error()));
    found = *std::move(selected);
    return sqlite::SqlStatus(ok_unit());
  });
  if (!outcome.ok()) return fail(outcome.error());
  return found;
}

Result<std::vector<Resource>> Store::resources(std::string_view deployment_id) const {
  std::vector<Resource> list;
  auto outcome = read("list resources", [&](sqlite::Connection& db) {
    auto query = db.prepare(
        fmt::format("SELECT {} FROM resources WHERE deployment_id=? ORDER BY creation_order", kResourceColumns));
    if (!query.ok()) return sqlite::SqlStatus(fail(std::move(query).error()));
    query->bind(1, deployment_id);
    return internal::collect_rows(db, *query, list, read_resource);
  });
  if (!outcome.ok()) return fail(outcome.error());
  return list;
}

}  // namespace hivemind::state
