// Renaming resource records: how a blue-green update hands the logical name
// of the serving instance to its replacement without a moment in which no
// row, or two rows, carry that name.

#include <fmt/format.h>

#include "state/store.h"
#include "state/store_internal.h"

namespace hivemind::state {
namespace {

using internal::reject;

sqlite::SqlResult<bool> has_row(sqlite::Connection& db, std::string_view deployment_id, std::string_view name) {
  auto query = db.prepare("SELECT 1 FROM resources WHERE deployment_id=? AND logical_name=?");
  if (!query.ok()) return fail(std::move(query).error());
  query->bind_all(deployment_id, name);
  const int rc = query->step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(db.failure(rc));
}

Error rename_rejected(std::string_view deployment_id, const std::string& name, std::string_view problem) {
  return make_error("state.rename_rejected",
                    fmt::format("Resource name {} of deployment {} {}.", name, deployment_id, problem),
                    "Nothing was renamed; this is a bug in the caller.");
}

}  // namespace

Status Store::rename_resources(std::string_view deployment_id,
                               const std::vector<std::pair<std::string, std::string>>& renames) {
  return write("rename resources", deployment_id, [&](sqlite::Connection& db, std::optional<Error>& rejection) {
    for (const auto& [from, to] : renames) {
      auto source = has_row(db, deployment_id, from);
      if (!source.ok()) return sqlite::SqlStatus(fail(std::move(source).error()));
      if (!*source)
        return sqlite::SqlStatus(fail(reject(rejection, rename_rejected(deployment_id, from, "has no row"))));
      auto target = has_row(db, deployment_id, to);
      if (!target.ok()) return sqlite::SqlStatus(fail(std::move(target).error()));
      if (*target) return sqlite::SqlStatus(fail(reject(rejection, rename_rejected(deployment_id, to, "is taken"))));

      auto update =
          db.prepare("UPDATE resources SET logical_name=?, updated_at_ms=? WHERE deployment_id=? AND logical_name=?");
      if (!update.ok()) return sqlite::SqlStatus(fail(std::move(update).error()));
      update->bind_all(to, now_ms(), deployment_id, from);
      if (auto ran = db.run(*update); !ran.ok()) return ran;
    }
    return sqlite::SqlStatus(ok_unit());
  });
}

}  // namespace hivemind::state
