#include "support/tls_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

namespace hivemind::testing {
namespace {

EVP_PKEY* make_key() { return EVP_EC_gen("P-256"); }

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

X509* make_certificate(const std::string& common_name, EVP_PKEY* key, long not_before_days, long not_after_days) {
  static long serial = 1;
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate), not_before_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(certificate), not_after_days * 86400);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  return certificate;
}

void write_pem(const std::filesystem::path& path, X509* certificate) {
  FILE* file = std::fopen(path.c_str(), "w");
  PEM_write_X509(file, certificate);
  std::fclose(file);
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
}

std::string alt_names(const CertificateSpec& spec) {
  std::string names;
  for (const auto& dns : spec.dns_names) names += (names.empty() ? "" : ",") + ("DNS:" + dns);
  for (const auto& ip : spec.ip_addresses) names += (names.empty() ? "" : ",") + ("IP:" + ip);
  return names;
}

}  // namespace

TestCa::TestCa(std::filesystem::path folder) : folder_(std::move(folder)), ca_file_(folder_ / "ca.pem") {
  EVP_PKEY* key = make_key();
  X509* certificate = make_certificate("HiveMind Test CA", key, -1, 365);
  X509_set_issuer_name(certificate, X509_get_subject_name(certificate));
  add_extension(certificate, certificate, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(certificate, certificate, NID_key_usage, "critical,keyCertSign,cRLSign");
  X509_sign(certificate, key, EVP_sha256());
  write_pem(ca_file_, certificate);
  ca_key_ = key;
  ca_certificate_ = certificate;
}

TestCa::~TestCa() {
  X509_free(static_cast<X509*>(ca_certificate_));
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
}

CertificateFiles TestCa::issue(const std::string& file_stem, const CertificateSpec& spec, bool self_signed) {
  EVP_PKEY* key = make_key();
  X509* certificate = make_certificate(spec.common_name, key, spec.not_before_days, spec.not_after_days);
  X509* issuer = self_signed ? certificate : static_cast<X509*>(ca_certificate_);
  X509_set_issuer_name(certificate, X509_get_subject_name(issuer));
  std::string names = alt_names(spec);
  if (!names.empty()) add_extension(certificate, issuer, NID_subject_alt_name, names);
  X509_sign(certificate, self_signed ? key : static_cast<EVP_PKEY*>(ca_key_), EVP_sha256());

  CertificateFiles files{folder_ / (file_stem + ".pem"), folder_ / (file_stem + ".key")};
  write_pem(files.certificate, certificate);
  write_key(files.key, key);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return files;
}

TlsServer::TlsServer(const CertificateFiles& files) {
  // A client may close right after its handshake, and the reply write must
  // not kill the test program.
  std::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  context_ = context;
  EXPECT_EQ(SSL_CTX_use_certificate_file(context, files.certificate.c_str(), SSL_FILETYPE_PEM), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey_file(context, files.key.c_str(), SSL_FILETYPE_PEM), 1);

  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  listen(listen_fd_, 8);
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TlsServer::~TlsServer() {
  stopping_ = true;
  thread_.join();
  close(listen_fd_);
  SSL_CTX_free(static_cast<SSL_CTX*>(context_));
}

void TlsServer::serve() {
  static const char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (poll(&waiting, 1, 100) <= 0) continue;
    int connection = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    timeval timeout{2, 0};
    setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(context_));
    SSL_set_fd(ssl, connection);
    if (SSL_accept(ssl) == 1) {
      char request[4096];
      SSL_read(ssl, request, sizeof(request));
      SSL_write(ssl, kReply, sizeof(kReply) - 1);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(connection);
  }
}

}  // namespace hivemind::testing
