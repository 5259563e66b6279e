#pragma once

// Small RAII wrappers and conversions over libssh's C API, shared by the
// remote module's sources. Not part of the module's public interface.

#include <libssh/libssh.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"

namespace hivemind::remote {

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyHandle = std::unique_ptr<ssh_key_struct, KeyDeleter>;

// Returns the key's SHA-256 fingerprint in the "SHA256:<base64>" form that
// ssh-keygen -l and the EC2 console print.
Result<std::string> sha256_fingerprint(ssh_key key);

// Reads an unencrypted private key file.
Result<KeyHandle> import_private_key(const std::filesystem::path& file);

}  // namespace hivemind::remote
