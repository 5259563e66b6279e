#pragma once

// The state database's schema as an ordered list of migrations. Version N is
// the schema after migrations 1..N; the `schema_version` table records each
// applied version with its time. A migration is never edited once released:
// a change to the schema is a new migration appended to the list.

#include <string_view>

#include "state/sqlite.h"

namespace hivemind::state::schema {

// The version that this build writes and expects.
int latest_version();

// Returns the highest version recorded in `schema_version`, or 0 for a
// database that has no such table yet (a new file).
sqlite::SqlResult<int> current_version(sqlite::Connection& connection);

// Applies, each in its own transaction, every migration after the current
// version up to `target_version`.
// REQUIRES: current_version(connection) <= target_version <= latest_version()
sqlite::SqlStatus migrate(sqlite::Connection& connection, int target_version, std::int64_t now_ms);

}  // namespace hivemind::state::schema
