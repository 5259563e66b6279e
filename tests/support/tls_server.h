#pragma once

// Test certificates made with the OpenSSL API, and a loopback TLS server
// that presents one of them, for the TLS checks.

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace hivemind::testing {

// A certificate and its key, as PEM files.
struct CertificateFiles {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  long not_before_days = -1;              // relative to now
  long not_after_days = 90;
};

// A test CA: a self-signed CA certificate that signs leaf certificates.
class TestCa {
 public:
  explicit TestCa(std::filesystem::path folder);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::filesystem::path& ca_file() const { return ca_file_; }
  // Writes a certificate signed by this CA, or self-signed when `self_signed`.
  CertificateFiles issue(const std::string& file_stem, const CertificateSpec& spec, bool self_signed = false);

 private:
  std::filesystem::path folder_;
  std::filesystem::path ca_file_;
  void* ca_key_ = nullptr;          // EVP_PKEY*
  void* ca_certificate_ = nullptr;  // X509*
};

// Serves TLS on a free 127.0.0.1 port with the given certificate: each
// connection gets a handshake, an HTTP 200 reply, and is closed.
class TlsServer {
 public:
  explicit TlsServer(const CertificateFiles& files);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  int port() const { return port_; }

 private:
  void serve();

  void* context_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace hivemind::testing
