#include "remote/libssh_util.h"

namespace hivemind::remote {

Result<std::string> sha256_fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != SSH_OK) {
    return fail(make_error("remote.key_failed", "libssh could not hash a public key."));
  }
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return fail(make_error("remote.key_failed", "libssh could not format a key fingerprint."));

  std::string fingerprint(text);
  ssh_string_free_char(text);
  return fingerprint;
}

Result<KeyHandle> import_private_key(const std::filesystem::path& file) {
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_file(file.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK) {
    return fail(make_error("remote.key_failed", "Could not read the SSH private key " + file.string() + ".",
                           "Check that the file exists, is readable, is not protected by a passphrase, and holds an "
                           "OpenSSH or PEM private key."));
  }
  return KeyHandle(raw);
}

}  // namespace hivemind::remote
