// The sample apps under examples/ against their expected analyses in
// tests/repo/golden/, compared as whole JSON documents.
//
// To rewrite the golden files after an intended change, run the tests with
// HIVEMIND_UPDATE_GOLDEN=1 and review the diff before committing it:
//   HIVEMIND_UPDATE_GOLDEN=1 build-<name>/tests/repo_tests --gtest_filter='AnalysisGolden*'

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "repo/analysis.h"

namespace hivemind::repo {
namespace {

namespace fs = std::filesystem;

const fs::path kExamples = fs::path(HIVEMIND_SOURCE_DIR) / "examples";
const fs::path kGolden = fs::path(HIVEMIND_SOURCE_DIR) / "tests" / "repo" / "golden";

std::string read_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::stringstream buffer;
  buffer << stream.rdbuf();
  return buffer.str();
}

bool updating_golden() {
  const char* value = std::getenv("HIVEMIND_UPDATE_GOLDEN");
  return value != nullptr && std::string(value) == "1";
}

struct GoldenCase {
  const char* example;  // folder under examples/
  const char* app_dir;  // --app-dir, or empty
  const char* golden;   // file under tests/repo/golden/
};

class AnalysisGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(AnalysisGoldenTest, MatchesGoldenJson) {
  const GoldenCase& entry = GetParam();
  AnalyzeOptions options;
  options.app_dir = entry.app_dir;
  Result<Analysis> analysis = analyze(kExamples / entry.example, options);
  ASSERT_TRUE(analysis.ok()) << analysis.error().describe();
  std::string actual = analysis_to_json(*analysis);

  fs::path golden = kGolden / entry.golden;
  if (updating_golden()) {
    std::ofstream(golden, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with HIVEMIND_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, read_file(golden)) << "analysis of examples/" << entry.example << " differs from " << golden;
}

INSTANTIATE_TEST_SUITE_P(Examples, AnalysisGoldenTest,
                         ::testing::Values(GoldenCase{"node-express-postgres", "", "node-express-postgres.json"},
                                           GoldenCase{"nextjs", "", "nextjs.json"},
                                           GoldenCase{"python-flask-redis", "", "python-flask-redis.json"},
                                           GoldenCase{"django-postgres", "", "django-postgres.json"},
                                           GoldenCase{"fastapi", "", "fastapi.json"},
                                           GoldenCase{"go-net-http", "", "go-net-http.json"},
                                           GoldenCase{"static-site", "", "static-site.json"},
                                           GoldenCase{"node-worker", "", "node-worker.json"},
                                           GoldenCase{"monorepo", "", "monorepo.json"},
                                           GoldenCase{"monorepo", "apps/api", "monorepo-api.json"},
                                           GoldenCase{"monorepo", "apps/web", "monorepo-web.json"}),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string name = info.param.golden;
                           name = name.substr(0, name.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Apps made by generators from the npm registry (see tests/repo/generated/README.md).
const fs::path kGenerated = fs::path(HIVEMIND_SOURCE_DIR) / "tests" / "repo" / "generated";

class GeneratedAppGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GeneratedAppGoldenTest, MatchesGoldenJson) {
  std::string app = GetParam();
  Result<Analysis> analysis = analyze(kGenerated / app, {});
  ASSERT_TRUE(analysis.ok()) << analysis.error().describe();
  std::string actual = analysis_to_json(*analysis);

  fs::path golden = kGolden / ("generated-" + app + ".json");
  if (updating_golden()) {
    std::ofstream(golden, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with HIVEMIND_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, read_file(golden)) << "analysis of tests/repo/generated/" << app << " differs from " << golden;
}

INSTANTIATE_TEST_SUITE_P(Generators, GeneratedAppGoldenTest,
                         ::testing::Values("express", "fastify", "nest", "next", "koa"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

// Runs a command and returns its standard output and exit status.
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

const std::string kBinary = std::string(HIVEMIND_BINARY_DIR) + "/hivemind";

TEST(AnalyzeCommand, JsonOutputMatchesGolden) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  fs::path example = kExamples / "node-express-postgres";
  auto [output, status] = run_command(kBinary + " analyze " + example.string() + " --json 2>/dev/null");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(output, read_file(kGolden / "node-express-postgres.json"));
}

TEST(AnalyzeCommand, MonorepoJsonListsApps) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  auto [output, status] =
      run_command(kBinary + " analyze " + (kExamples / "monorepo").string() + " --json 2>/dev/null");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(output, read_file(kGolden / "monorepo.json"));
}

TEST(AnalyzeCommand, JsonFailureParsesOnStandardOutput) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  auto [output, status] = run_command(kBinary + " analyze /nonexistent/hivemind-app --json 2>/dev/null");
  EXPECT_EQ(status, 1);
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << output;
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_EQ(parsed.value("code", ""), "source.not_found");
  EXPECT_NE(parsed.value("error", "").find("/nonexistent/hivemind-app does not exist"), std::string::npos) << output;
}

TEST(AnalyzeCommand, TextOutputNamesEvidence) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  fs::path example = kExamples / "python-flask-redis";
  auto [output, status] = run_command(kBinary + " analyze " + example.string() + " 2>&1");
  EXPECT_EQ(status, 0);
  EXPECT_NE(output.find("flask"), std::string::npos) << output;
  EXPECT_NE(output.find("requirements.txt:1"), std::string::npos) << output;
  EXPECT_EQ(output.find("\033["), std::string::npos) << "colors on a pipe";
}

TEST(AnalyzeCommand, BadInputExitsWithOne) {
  ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " not found: build the hivemind target before the tests";
  auto [missing_output, missing_status] = run_command(kBinary + " analyze /nonexistent/hivemind-folder 2>&1");
  EXPECT_EQ(missing_status, 1);
  EXPECT_FALSE(missing_output.empty());

  auto [docs_output, docs_status] =
      run_command(kBinary + " analyze " + (kExamples / "monorepo").string() + " --app-dir apps/none 2>&1");
  EXPECT_EQ(docs_status, 1);
  EXPECT_NE(docs_output.find("apps/none"), std::string::npos) << docs_output;
}

}  // namespace
}  // namespace hivemind::repo
