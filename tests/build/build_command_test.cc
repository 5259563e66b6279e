// `hivemind build --json` run as a program: a failure must still leave a
// JSON document on standard output for the script that called it.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(HIVEMIND_BINARY_DIR) + "/hivemind";

// Runs a shell command line and returns its standard output and exit status.
std::pair<std::string, int> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  std::array<char, 4096> buffer{};
  size_t count = 0;
  while ((count = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), count);
  int status = pclose(pipe);
  return {output, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string build_json(const fs::path& state_dir, const fs::path& app) {
  return kBinary + " --state-dir '" + state_dir.string() + "' build '" + app.string() + "' --json 2>/dev/null";
}

TEST(BuildCommand, JsonFailureOfMissingSource) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  testing::TempDir temp;
  auto [output, status] = run_command(build_json(temp.path() / "state", "/nonexistent/hivemind-app"));

  EXPECT_EQ(status, 1);
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << output;
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_EQ(parsed.value("code", ""), "source.not_found");
}

TEST(BuildCommand, JsonFailureOfBuildStep) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  testing::TempDir temp;
  fs::create_directories(temp.path() / "app");
  std::ofstream(temp.path() / "app" / "package.json")
      << R"({"name": "broken", "version": "1.0.0", "scripts": {"build": "exit 3", "start": "node server.js"}})";
  std::ofstream(temp.path() / "app" / "server.js") << "1;\n";

  auto [output, status] = run_command("npm_config_cache='" + (temp.path() / "npm-cache").string() + "' " +
                                      build_json(temp.path() / "state", temp.path() / "app"));

  EXPECT_EQ(status, 1);
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << output;
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_EQ(parsed.value("code", ""), "build.step_failed");
  EXPECT_NE(parsed.value("error", "").find("npm run build"), std::string::npos) << output;
}

}  // namespace
}  // namespace hivemind::build
