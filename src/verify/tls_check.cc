// TLS checks with OpenSSL. The handshake runs with verification reported
// rather than enforced, so that one connection yields both the verify result
// (chain, expiry, host name) and the facts worth showing when it fails: the
// protocol version, the subject and the days to expiry.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "verify/overwatch.h"
#include "verify/socket_connect.h"

namespace hivemind::verify {
namespace {

struct SslCtxDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct X509Deleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};

bool is_ip_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

void set_socket_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval value{};
  value.tv_sec = static_cast<long>(timeout.count() / 1000);
  value.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof(value));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof(value));
}

Diagnosis classify_verify_error(long code) {
  switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Diagnosis::kCertExpired;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return Diagnosis::kCertSelfSigned;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return Diagnosis::kCertWrongHost;
    default:
      return Diagnosis::kCertUntrusted;
  }
}

// Whole days from now until the certificate's notAfter; negative once expired.
int days_to_expiry(X509* certificate) {
  int days = 0;
  int seconds = 0;
  ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(certificate));
  return days;
}

std::string subject_of(X509* certificate) {
  char buffer[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), buffer, sizeof(buffer));
  return buffer;
}

std::unique_ptr<SSL_CTX, SslCtxDeleter> make_context(const TlsCheck& check, std::string& error) {
  std::unique_ptr<SSL_CTX, SslCtxDeleter> context(SSL_CTX_new(TLS_client_method()));
  if (!context) {
    error = "could not create an OpenSSL context";
    return nullptr;
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  int loaded = check.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context.get())
                                     : SSL_CTX_load_verify_locations(context.get(), check.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    error = check.ca_file.empty() ? "could not load the system CA store"
                                  : fmt::format("could not read the CA file {}", check.ca_file);
    return nullptr;
  }
  return context;
}

void expect_name(SSL* ssl, const std::string& name) {
  X509_VERIFY_PARAM* parameters = SSL_get0_param(ssl);
  if (is_ip_address(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(parameters, name.c_str());
    return;
  }
  SSL_set_tlsext_host_name(ssl, name.c_str());
  X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  X509_VERIFY_PARAM_set1_host(parameters, name.c_str(), 0);
}

CheckResult fail(CheckResult result, Diagnosis diagnosis, std::string detail) {
  result.diagnosis = diagnosis;
  result.detail = std::move(detail);
  return result;
}

// Judges a finished handshake: the verify result first, then the expiry window.
CheckResult judge_certificate(CheckResult result, const TlsCheck& check, SSL* ssl, const std::string& name) {
  std::unique_ptr<X509, X509Deleter> certificate(SSL_get1_peer_certificate(ssl));
  if (!certificate) {
    return fail(std::move(result), Diagnosis::kCertUntrusted,
                fmt::format("{}:{} presented no certificate.", check.host, check.port));
  }

  std::string facts = fmt::format("{}, certificate {} expires in {} days", SSL_get_version(ssl),
                                  subject_of(certificate.get()), days_to_expiry(certificate.get()));
  long verified = SSL_get_verify_result(ssl);
  if (verified != X509_V_OK) {
    Diagnosis diagnosis = classify_verify_error(verified);
    return fail(
        std::move(result), diagnosis,
        fmt::format("TLS certificate of {}:{} for \"{}\" failed verification: {} ({}; {}).", check.host, check.port,
                    name, X509_verify_cert_error_string(verified), diagnosis_name(diagnosis), facts));
  }

  int days = days_to_expiry(certificate.get());
  if (days < check.warn_days) {
    return fail(std::move(result), Diagnosis::kCertExpiresSoon,
                fmt::format("TLS certificate of {}:{} expires in {} days, fewer than {} ({}). Renew it.", check.host,
                            check.port, days, check.warn_days, facts));
  }

  result.passed = true;
  result.detail = fmt::format("TLS to {}:{} for \"{}\": {}.", check.host, check.port, name, facts);
  return result;
}

}  // namespace

CheckResult check_tls(const TlsCheck& check) {
  CheckResult result;
  result.name = check.name;
  const std::string& name = check.server_name.empty() ? check.host : check.server_name;
  auto started = std::chrono::steady_clock::now();

  std::string error;
  auto context = make_context(check, error);
  if (!context) return fail(std::move(result), Diagnosis::kInvalidRequest, error + ".");

  ConnectOutcome connected = connect_with_timeout(check.host, check.port, check.timeout);
  if (connected.fd < 0) {
    return fail(std::move(result), connected.diagnosis,
                fmt::format("TCP connect to {}:{} for TLS failed: {} ({}).", check.host, check.port, connected.error,
                            diagnosis_name(connected.diagnosis)));
  }
  set_socket_timeouts(connected.fd, check.timeout);

  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(context.get()));
  SSL_set_fd(ssl.get(), connected.fd);
  expect_name(ssl.get(), name);

  ERR_clear_error();
  int handshake = SSL_connect(ssl.get());
  result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (handshake != 1) {
    int code = SSL_get_error(ssl.get(), handshake);
    unsigned long queued = ERR_get_error();
    bool timed_out = code == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
    std::string reason = queued != 0 ? ERR_error_string(queued, nullptr) : "the connection closed during the handshake";
    close(connected.fd);
    return fail(std::move(result), timed_out ? Diagnosis::kTimedOut : Diagnosis::kTlsHandshake,
                fmt::format("TLS handshake with {}:{} failed: {}. Check that the port serves TLS.", check.host,
                            check.port, timed_out ? "no reply within the timeout" : reason));
  }

  result = judge_certificate(std::move(result), check, ssl.get(), name);
  // No close_notify: writing to a peer that has already closed raises
  // SIGPIPE. NOTE: a peer that closes during the handshake can still raise
  // it unless the program ignores SIGPIPE, as run_process() does once called.
  close(connected.fd);
  return result;
}

}  // namespace hivemind::verify
