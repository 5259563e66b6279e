#pragma once

// Local generation of the SSH key pair that HiveMind imports into EC2
// (ImportKeyPair) and then uses to log in to the deployment's hosts.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hivemind::remote {

struct KeyPair {
  std::filesystem::path private_key_file;  // OpenSSH format, mode 0600
  std::string public_key;                  // authorized_keys line: "ssh-ed25519 AAAA... comment"
  std::string fingerprint;                 // SHA-256 of the public key, "SHA256:..." as ssh-keygen -l prints it
};

// Generates an ed25519 key pair, writes the private key to `private_key_file`
// and returns the public half. The file is created with mode 0600 by the
// open() call itself, so it is never readable by others, not even briefly.
// Fails if the file already exists, so that a key in use is never replaced.
Result<KeyPair> generate_key_pair(const std::filesystem::path& private_key_file, std::string_view comment);

// Loads the public half of an existing private key file.
Result<KeyPair> load_key_pair(const std::filesystem::path& private_key_file, std::string_view comment);

}  // namespace hivemind::remote
