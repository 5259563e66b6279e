// `hivemind build --json` run as a program: a failure must still leave a
// JSON document on standard output for the script that called it.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/process.h"
#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(HIVEMIND_BINARY_DIR) + "/hivemind";

// Runs `hivemind --state-dir <state> build <app> --json`, bounded to two
// minutes, and returns its standard output (standard error is dropped) and
// exit code.
std::pair<std::string, int> build_json(const fs::path& state_dir, const fs::path& app) {
  ProcessOptions options;
  const char* path = std::getenv("PATH");
  options.environment = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"},
                         {"HOME", state_dir.parent_path().string()},
                         {"AWS_EC2_METADATA_DISABLED", "true"},
                         {"npm_config_cache", (state_dir.parent_path() / "npm-cache").string()}};
  options.timeout = std::chrono::minutes(2);
  Result<ProcessResult> run = run_process({"/bin/sh", "-c", "exec \"$@\" 2>/dev/null", "sh", kBinary, "--state-dir",
                                           state_dir.string(), "build", app.string(), "--json"},
                                          options);
  if (!run) return {run.error().describe(), -1};
  return {run->output, run->exit_code};
}

TEST(BuildCommand, JsonFailureOfMissingSource) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  testing::TempDir temp;
  auto [output, status] = build_json(temp.path() / "state", "/nonexistent/hivemind-app");

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

  auto [output, status] = build_json(temp.path() / "state", temp.path() / "app");

  EXPECT_EQ(status, 1);
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << output;
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_EQ(parsed.value("code", ""), "build.step_failed");
  EXPECT_NE(parsed.value("error", "").find("npm run build"), std::string::npos) << output;
}

}  // namespace
}  // namespace hivemind::build
