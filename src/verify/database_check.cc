// Database checks: a real login with the deployment's credentials and a
// SELECT 1, through libpq for PostgreSQL and MariaDB Connector/C for MySQL.
// The password goes only into the client library's connect call.

#include <errmsg.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include "verify/overwatch.h"
#include "verify/socket_connect.h"

namespace hivemind::verify {
namespace {

struct PgConnDeleter {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct MysqlDeleter {
  void operator()(MYSQL* connection) const { mysql_close(connection); }
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// libpq reports connect failures only as text, so the diagnosis comes from
// the messages of libpq 15 and of the server (in English, as lc_messages is
// not set on the client).
Diagnosis classify_postgres(const std::string& message) {
  if (contains(message, "password authentication failed") || contains(message, "authentication failed") ||
      contains(message, "no password supplied") || contains(message, "does not exist")) {
    return Diagnosis::kAuthFailed;
  }
  if (contains(message, "Connection refused")) return Diagnosis::kRefused;
  if (contains(message, "timeout expired") || contains(message, "timed out")) return Diagnosis::kTimedOut;
  return Diagnosis::kUnreachable;
}

Diagnosis classify_mysql(unsigned int code, const std::string& message) {
  if (code == ER_ACCESS_DENIED_ERROR || code == ER_DBACCESS_DENIED_ERROR || code == ER_BAD_DB_ERROR) {
    return Diagnosis::kAuthFailed;
  }
  if (contains(message, "timed out") || contains(message, "(110)")) return Diagnosis::kTimedOut;
  if (contains(message, "(111)")) return Diagnosis::kRefused;
  return Diagnosis::kUnreachable;
}

std::string advice(Diagnosis diagnosis) {
  switch (diagnosis) {
    case Diagnosis::kAuthFailed:
      return " Check the master user name, the database name and the password parameter in SSM.";
    case Diagnosis::kRefused:
      return " Check that the database is running and listens on that port.";
    case Diagnosis::kTimedOut:
      return " Check the database's security group and subnet routes.";
    default:
      return {};
  }
}

CheckResult check_postgres(CheckResult result, const DatabaseCheck& check) {
  std::string port = std::to_string(check.port);
  // libpq treats a connect_timeout below 2 seconds as 2.
  std::string timeout = std::to_string(std::max<long long>(2, check.timeout.count() / 1000));
  const char* keys[] = {"host", "port", "user", "password", "dbname", "connect_timeout", "sslmode", nullptr};
  const char* values[] = {check.host.c_str(),     port.c_str(),    check.user.c_str(), check.password.reveal().c_str(),
                          check.database.c_str(), timeout.c_str(), "prefer",           nullptr};
  std::unique_ptr<PGconn, PgConnDeleter> connection(PQconnectdbParams(keys, values, 0));

  if (PQstatus(connection.get()) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(connection.get()));
    result.diagnosis = classify_postgres(message);
    result.detail =
        fmt::format("PostgreSQL login as {} to {}:{}/{} failed: {} ({}).{}", check.user, check.host, check.port,
                    check.database, message, diagnosis_name(result.diagnosis), advice(result.diagnosis));
    return result;
  }

  std::unique_ptr<PGresult, PgResultDeleter> answer(PQexec(connection.get(), "SELECT 1"));
  if (PQresultStatus(answer.get()) != PGRES_TUPLES_OK) {
    result.diagnosis = Diagnosis::kQueryFailed;
    result.detail = fmt::format("PostgreSQL login to {}:{} succeeded but SELECT 1 failed: {}.", check.host, check.port,
                                trimmed(PQresultErrorMessage(answer.get())));
    return result;
  }

  result.passed = true;
  result.detail =
      fmt::format("PostgreSQL {} at {}:{}: login as {} and SELECT 1 succeeded.",
                  PQparameterStatus(connection.get(), "server_version"), check.host, check.port, check.user);
  return result;
}

CheckResult check_mysql(CheckResult result, const DatabaseCheck& check) {
  std::unique_ptr<MYSQL, MysqlDeleter> connection(mysql_init(nullptr));
  unsigned int seconds = static_cast<unsigned int>(std::max<long long>(1, check.timeout.count() / 1000));
  mysql_options(connection.get(), MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
  mysql_options(connection.get(), MYSQL_OPT_READ_TIMEOUT, &seconds);
  mysql_options(connection.get(), MYSQL_OPT_WRITE_TIMEOUT, &seconds);

  if (mysql_real_connect(connection.get(), check.host.c_str(), check.user.c_str(), check.password.reveal().c_str(),
                         check.database.empty() ? nullptr : check.database.c_str(), check.port, nullptr,
                         0) == nullptr) {
    std::string message = mysql_error(connection.get());
    unsigned int code = mysql_errno(connection.get());
    result.diagnosis = classify_mysql(code, message);
    if (code == CR_CONN_HOST_ERROR || code == CR_CONNECTION_ERROR) {
      // Connector/C 3.3 reports a refused connection as errno 115
      // (EINPROGRESS) from its non-blocking connect, so a plain TCP connect
      // tells refused from timed out.
      ConnectOutcome probe = connect_with_timeout(check.host, check.port, check.timeout);
      if (probe.fd >= 0) close(probe.fd);
      if (probe.fd < 0) result.diagnosis = probe.diagnosis;
    }
    result.detail = fmt::format("MySQL login as {} to {}:{}/{} failed: {} ({}).{}", check.user, check.host, check.port,
                                check.database, message, diagnosis_name(result.diagnosis), advice(result.diagnosis));
    return result;
  }

  if (mysql_query(connection.get(), "SELECT 1") != 0) {
    result.diagnosis = Diagnosis::kQueryFailed;
    result.detail = fmt::format("MySQL login to {}:{} succeeded but SELECT 1 failed: {}.", check.host, check.port,
                                mysql_error(connection.get()));
    return result;
  }
  MYSQL_RES* rows = mysql_store_result(connection.get());
  if (rows != nullptr) mysql_free_result(rows);

  result.passed = true;
  result.detail = fmt::format("MySQL {} at {}:{}: login as {} and SELECT 1 succeeded.",
                              mysql_get_server_info(connection.get()), check.host, check.port, check.user);
  return result;
}

}  // namespace

CheckResult check_database(const DatabaseCheck& check) {
  CheckResult result;
  result.name = check.name;
  auto started = std::chrono::steady_clock::now();

  if (check.host.empty() || check.port == 0) {
    result.diagnosis = Diagnosis::kInvalidRequest;
    result.detail = "The database check has no host or port.";
    return result;
  }
  if (check.engine == "postgres") {
    result = check_postgres(std::move(result), check);
  } else if (check.engine == "mysql" || check.engine == "mariadb") {
    result = check_mysql(std::move(result), check);
  } else {
    result.diagnosis = Diagnosis::kInvalidRequest;
    result.detail = fmt::format("Unknown database engine \"{}\"; expected postgres or mysql.", check.engine);
  }

  result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace hivemind::verify
