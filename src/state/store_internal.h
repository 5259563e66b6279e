#pragma once

// Helpers shared by the store's source files; not part of the public API.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "state/model.h"
#include "state/sqlite.h"

namespace hivemind::state::internal {

inline std::int64_t to_ms(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

inline TimePoint from_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

// Turns a failed SQLite call during `operation` into an error that states
// what happened to `database`, what is still safe, and what to do next.
// `deployment_id` may be empty when the operation concerns no deployment.
Error storage_error(std::string_view operation, const std::filesystem::path& database, std::string_view deployment_id,
                    const sqlite::Failure& failure);

// Returns the sentence on finding a deployment's AWS resources by tag.
std::string tag_hint(std::string_view deployment_id);

// Steps `query` to the end, appending read_row(query) for every row.
template <typename T, typename ReadRow>
sqlite::SqlStatus collect_rows(sqlite::Connection& db, sqlite::Statement& query, std::vector<T>& rows,
                               ReadRow read_row) {
  int rc;
  while ((rc = query.step()) == SQLITE_ROW) rows.push_back(read_row(query));
  if (rc != SQLITE_DONE) return fail(db.failure(rc));
  return ok_unit();
}

// A write body that rejects its request (unknown id, changed host key) stores
// the error in `slot` and returns a failure with code kRejected. The store
// then rolls back without latching, because no storage failed.
inline constexpr int kRejected = SQLITE_ABORT;

inline sqlite::Failure reject(std::optional<Error>& slot, Error error) {
  slot = std::move(error);
  return sqlite::Failure{kRejected, "request rejected"};
}

}  // namespace hivemind::state::internal
