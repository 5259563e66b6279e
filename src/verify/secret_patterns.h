#pragma once

// Finds text that looks like a secret without knowing its value: private key
// blocks, AWS access key ids, URLs with a password in them, and shell or
// environment assignments of a literal to a variable named like a password.
// Used by the no-secrets-at-rest rule next to its search for known values.
// The patterns favour few false positives over finding every secret, so a
// clean result is no proof that a text contains no secret.
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace hivemind::verify {

// Returns one description per kind of secret-looking text found in `text`
// ("a private key block", "an AWS access key id", ...), each kind at most
// once and in a fixed order. The matched text itself is never returned, so
// the result can be logged and stored.
std::vector<std::string> find_secret_patterns(std::string_view text);

}  // namespace hivemind::verify
