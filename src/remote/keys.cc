#include "remote/keys.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "remote/libssh_util.h"

namespace hivemind::remote {
namespace {

Error key_error(std::string message, std::string remediation = {}) {
  return make_error("remote.key_failed", std::move(message), std::move(remediation));
}

// Writes `text` to a new file created with mode 0600. O_EXCL makes the call
// fail rather than reuse a file that another process may already have open.
Status write_new_private_file(const std::filesystem::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(key_error("Could not create the private key file " + path.string() + ": " + std::strerror(errno) + ".",
                          "Choose a path in a writable folder where no file of that name exists."));
  }

  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return fail(key_error("Could not write the private key file " + path.string() + ": " + std::strerror(saved) + ".",
                            "Check the free space of that disk."));
    }
    written += static_cast<std::size_t>(n);
  }

  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return fail(key_error("Could not save the private key file " + path.string() + ".", "Check that disk."));
  }
  return ok_unit();
}

Result<KeyPair> describe_key(ssh_key key, const std::filesystem::path& file, std::string_view comment) {
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &base64) != SSH_OK) {
    return fail(key_error("Could not encode the public key of " + file.string() + "."));
  }
  std::unique_ptr<char, decltype(&ssh_string_free_char)> owned(base64, &ssh_string_free_char);

  auto fingerprint = sha256_fingerprint(key);
  if (!fingerprint) return fail(fingerprint.error());

  KeyPair pair;
  pair.private_key_file = file;
  pair.public_key = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + base64;
  if (!comment.empty()) pair.public_key += " " + std::string(comment);
  pair.fingerprint = std::move(*fingerprint);
  return pair;
}

}  // namespace

Result<KeyPair> generate_key_pair(const std::filesystem::path& private_key_file, std::string_view comment) {
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK) {
    return fail(key_error("libssh could not generate an ed25519 key.", "Check that libssh was built with ed25519."));
  }
  KeyHandle key(raw);

  // For ed25519 keys libssh exports the OpenSSH format ("BEGIN OPENSSH
  // PRIVATE KEY"), the one that ssh and ssh-keygen read.
  char* encoded = nullptr;
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &encoded) != SSH_OK) {
    return fail(key_error("libssh could not encode the new private key."));
  }
  std::string text(encoded);
  ssh_string_free_char(encoded);
  if (text.empty() || text.back() != '\n') text += '\n';

  Status written = write_new_private_file(private_key_file, text);
  std::fill(text.begin(), text.end(), '\0');
  if (!written) return fail(written.error());

  auto pair = describe_key(key.get(), private_key_file, comment);
  if (pair) {
    log::get("deployer")->info("generated ed25519 key pair {} ({})", private_key_file.string(), pair->fingerprint);
  }
  return pair;
}

Result<KeyPair> load_key_pair(const std::filesystem::path& private_key_file, std::string_view comment) {
  auto key = import_private_key(private_key_file);
  if (!key) return fail(key.error());
  return describe_key(key->get(), private_key_file, comment);
}

}  // namespace hivemind::remote
