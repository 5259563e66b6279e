#pragma once

// Overwatch: checks that a deployed application answers. Each check takes a
// plain request struct and returns a CheckResult; nothing here knows about
// deployments, state or the sandbox, so callers decide which address to
// check (the verify stage resolves sandbox addresses through the address map).
//
// A failed check is a value, never an error: its diagnosis tells a refused
// connection from a timeout, a wrong status, a bad certificate or a failed
// login, and its detail says what was seen and what to look at next.
// Thread safety: every function is reentrant; checks may run in parallel.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/secret.h"

namespace hivemind::verify {

// Why a check failed. kNone for a check that passed.
enum class Diagnosis {
  kNone,
  kRefused,          // nothing listens on the port (connection refused)
  kTimedOut,         // no connection or no reply within the timeout
  kUnreachable,      // name not resolved, no route, or another network error
  kWrongStatus,      // HTTP status other than the expected one
  kBodyMismatch,     // the HTTP body lacks the expected text
  kCertExpired,      // the certificate's notAfter has passed (or notBefore is ahead)
  kCertSelfSigned,   // the chain ends in a certificate that no trusted CA issued
  kCertUntrusted,    // the chain does not verify for another reason
  kCertWrongHost,    // the certificate does not name the host that was checked
  kCertExpiresSoon,  // valid, but expires within the warning window
  kTlsHandshake,     // the TLS handshake failed before any certificate check
  kAuthFailed,       // the database rejected the user name or password
  kQueryFailed,      // logged in, but SELECT 1 failed
  kInvalidRequest,   // the check itself was malformed (empty host, bad URL, unknown engine)
};

// Returns the diagnosis as a stable snake_case word, e.g. "refused".
std::string_view diagnosis_name(Diagnosis diagnosis);

struct CheckResult {
  std::string name;  // e.g. "http_instance", "tls_load_balancer"
  bool passed = false;
  Diagnosis diagnosis = Diagnosis::kNone;
  std::string detail;                    // what was seen; on failure, also what to check next
  std::chrono::milliseconds latency{0};  // time until the answer (or the failure)
};

struct HttpCheck {
  std::string name = "http";
  std::string url;  // "http://127.0.0.1:8080/health" or "https://..."
  int expected_status = 200;
  std::string body_contains;  // empty: any body
  std::chrono::milliseconds timeout{5'000};
  std::string ca_file;  // for https: a PEM CA bundle; empty: the system CA store
  // Sent as the Host header and used for TLS name checks when set, so that a
  // local stand-in address can be checked under the name the app expects.
  std::string host_header;
};

struct TcpCheck {
  std::string name = "tcp";
  std::string host;  // an IP address or a name
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{3'000};
};

struct TlsCheck {
  std::string name = "tls";
  std::string host;  // where to connect
  std::uint16_t port = 443;
  std::string server_name;  // SNI and the name the certificate must match; empty: host
  std::string ca_file;      // PEM CA bundle; empty: the system CA store
  int warn_days = 14;       // fewer days to expiry than this fails with kCertExpiresSoon
  std::chrono::milliseconds timeout{5'000};
};

struct DatabaseCheck {
  std::string name = "database";
  std::string engine;  // "postgres" or "mysql"
  std::string host;
  std::uint16_t port = 0;
  std::string user;
  Secret password;
  std::string database;
  std::chrono::milliseconds timeout{5'000};
};

CheckResult check_http(const HttpCheck& check);
CheckResult check_tcp(const TcpCheck& check);
// Verifies the chain, the host name and the expiry, and reports the TLS
// protocol version and days to expiry in the detail.
CheckResult check_tls(const TlsCheck& check);
// Logs in and runs SELECT 1 (libpq for postgres, MariaDB Connector/C for mysql).
CheckResult check_database(const DatabaseCheck& check);

}  // namespace hivemind::verify
