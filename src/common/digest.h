#pragma once

// SHA-256 digests (OpenSSL EVP) for content hashes, cache keys and artifact
// checksums. Thread safety: a Sha256 object is used by one thread at a time.

#include <memory>
#include <string>
#include <string_view>

namespace hivemind {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // Returns the digest in lowercase hex. The object cannot be updated afterwards.
  std::string finish_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex_of(std::string_view bytes);

}  // namespace hivemind
