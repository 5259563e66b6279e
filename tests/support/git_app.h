#pragma once

// Small web apps in fresh Git repositories, for tests that run the real
// hivemind binary. Each app has no dependencies, so its build needs nothing
// from the network.

#include <filesystem>
#include <string>

namespace hivemind::testing {

// Writes a Node.js app named `name` (package.json and server.js, listening on
// PORT or 3000) under `parent`, commits it in a new Git repository, and
// returns its folder. Fails the calling test when Git fails.
std::filesystem::path make_node_app(const std::filesystem::path& parent, const std::string& name);

}  // namespace hivemind::testing
