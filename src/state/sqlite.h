#pragma once

// A thin RAII layer over the SQLite C API, private to the state store. It
// returns SQLite's own result codes; store.cc turns them into user-facing
// errors that know which file and which deployment were involved.
//
// Thread safety: none. A Connection and its Statements must be used by one
// thread at a time; the Store serializes access with its mutex.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hivemind::state::sqlite {

// A failed SQLite call: the extended result code and sqlite3_errmsg().
struct Failure {
  int code = SQLITE_ERROR;  // extended result code, e.g. SQLITE_IOERR_FSYNC
  std::string message;

  int primary_code() const { return code & 0xff; }
};

template <typename T>
using SqlResult = Result<T, Failure>;
using SqlStatus = Result<Unit, Failure>;

class Statement {
 public:
  explicit Statement(sqlite3_stmt* handle) : handle_(handle) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQLite.
  void bind(int index, std::int64_t value);
  void bind(int index, int value) { bind(index, static_cast<std::int64_t>(value)); }
  void bind(int index, double value);
  void bind(int index, std::string_view value);
  void bind(int index, const std::string& value) { bind(index, std::string_view(value)); }
  void bind(int index, const char* value) { bind(index, std::string_view(value)); }
  void bind(int index, std::nullopt_t);
  template <typename T>
  void bind(int index, const std::optional<T>& value) {
    if (value) {
      bind(index, *value);
    } else {
      bind(index, std::nullopt);
    }
  }

  // Binds every argument in order, starting at parameter 1.
  template <typename... Args>
  void bind_all(const Args&... args) {
    int index = 1;
    (bind(index++, args), ...);
  }

  // Returns SQLITE_ROW, SQLITE_DONE or an error code.
  int step();

  // Columns are numbered from 0, as in SQLite.
  std::int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  bool column_is_null(int column) const;

 private:
  sqlite3_stmt* handle_;
};

class Connection {
 public:
  // Opens (and creates when missing) the database file read-write.
  static SqlResult<Connection> open(const std::filesystem::path& file);

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  SqlResult<Statement> prepare(std::string_view sql);

  // Runs one or more statements that return no rows the caller needs.
  SqlStatus exec(const std::string& sql);

  // Runs a statement that returns one text value, e.g. "PRAGMA journal_mode=WAL".
  SqlResult<std::string> query_text(std::string_view sql);

  // Steps a prepared statement that returns no rows.
  SqlStatus run(Statement& statement);

  // Builds a Failure from `code` and the connection's current error message.
  Failure failure(int code) const;

  bool is_read_only() const;
  std::int64_t last_insert_rowid() const;
  sqlite3* handle() const { return handle_; }

 private:
  explicit Connection(sqlite3* handle) : handle_(handle) {}

  sqlite3* handle_;
};

}  // namespace hivemind::state::sqlite
