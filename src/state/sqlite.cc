#include "state/sqlite.h"

#include <utility>

namespace hivemind::state::sqlite {

Statement::~Statement() {
  if (handle_ != nullptr) sqlite3_finalize(handle_);
}

Statement::Statement(Statement&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) sqlite3_finalize(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void Statement::bind(int index, std::int64_t value) { sqlite3_bind_int64(handle_, index, value); }

void Statement::bind(int index, double value) { sqlite3_bind_double(handle_, index, value); }

void Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(handle_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int index, std::nullopt_t) { sqlite3_bind_null(handle_, index); }

int Statement::step() { return sqlite3_step(handle_); }

std::int64_t Statement::column_int(int column) const { return sqlite3_column_int64(handle_, column); }

double Statement::column_double(int column) const { return sqlite3_column_double(handle_, column); }

std::string Statement::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(handle_, column)));
}

bool Statement::column_is_null(int column) const { return sqlite3_column_type(handle_, column) == SQLITE_NULL; }

SqlResult<Connection> Connection::open(const std::filesystem::path& file) {
  sqlite3* handle = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    Failure failure{rc, handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc)};
    sqlite3_close(handle);
    return fail(std::move(failure));
  }
  sqlite3_extended_result_codes(handle, 1);
  return Connection(handle);
}

Connection::Connection(Connection&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) sqlite3_close(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Connection::~Connection() {
  // sqlite3_close fails only while statements are unfinalized. Each Statement
  // finalizes itself when destroyed, and none outlives its Connection.
  if (handle_ != nullptr) sqlite3_close(handle_);
}

SqlResult<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int rc = sqlite3_prepare_v2(handle_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
  if (rc != SQLITE_OK) return fail(failure(rc));
  return Statement(statement);
}

SqlStatus Connection::exec(const std::string& sql) {
  const int rc = sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(failure(rc));
  return ok_unit();
}

SqlResult<std::string> Connection::query_text(std::string_view sql) {
  auto statement = prepare(sql);
  if (!statement.ok()) return fail(std::move(statement).error());

  const int rc = statement->step();
  if (rc == SQLITE_ROW) return statement->column_text(0);
  if (rc == SQLITE_DONE) return std::string();
  return fail(failure(rc));
}

SqlStatus Connection::run(Statement& statement) {
  const int rc = statement.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(failure(rc));
  return ok_unit();
}

Failure Connection::failure(int code) const {
  const int extended = sqlite3_extended_errcode(handle_);
  // The connection's current code is more precise when it refines `code`.
  const int chosen = (extended & 0xff) == (code & 0xff) ? extended : code;
  return Failure{chosen, sqlite3_errmsg(handle_)};
}

bool Connection::is_read_only() const { return sqlite3_db_readonly(handle_, "main") == 1; }

std::int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(handle_); }

}  // namespace hivemind::state::sqlite
