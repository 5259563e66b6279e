#include "build/compiler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read_file(const fs::path& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

repo::Analysis node_analysis(const std::string& build_command) {
  repo::Analysis analysis;
  analysis.language.value = "node";
  analysis.runtime_version = repo::Finding<std::string>{">=18", repo::Origin::kDetected, {"package.json", 0, ""}};
  if (!build_command.empty()) {
    analysis.build_command =
        repo::Finding<std::string>{build_command, repo::Origin::kDetected, {"package.json", 0, ""}};
  }
  analysis.start_command =
      repo::Finding<std::string>{"node server.js", repo::Origin::kDetected, {"package.json", 0, ""}};
  analysis.ports.push_back(repo::Finding<int>{3000, repo::Origin::kDetected, {"server.js", 3, ""}});
  analysis.env_vars.push_back(repo::EnvVar{"PORT", false, "3000", repo::Origin::kDetected, {}});
  return analysis;
}

class CompilerTest : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) const { return temp_.path() / name; }

  BuildRequest request_for(const fs::path& root, repo::Analysis analysis) const {
    BuildRequest request;
    request.source = repo::SourceTree{root.string(), root, "", false};
    request.analysis = std::move(analysis);
    request.state_dir = path("state");
    request.app_name = "fixture";
    request.step_timeout = std::chrono::minutes(5);
    // Keeps npm quiet and its cache inside the test's folder.
    request.environment = {{"npm_config_audit", "false"},
                           {"npm_config_fund", "false"},
                           {"npm_config_update_notifier", "false"},
                           {"npm_config_cache", path("npm-cache").string()}};
    return request;
  }

  testing::TempDir temp_;
};

TEST_F(CompilerTest, NodeAppBuildsWithNpmCiAndIsCached) {
  fs::copy(fs::path(HIVEMIND_SOURCE_DIR) / "tests/build/fixtures/node-app", path("app"), fs::copy_options::recursive);
  BuildRequest request = request_for(path("app"), node_analysis("npm run build"));
  std::vector<std::string> events;
  request.on_event = [&events](const BuildEvent& event) { events.push_back(event.message); };

  Result<BuildResult> first = build_app(request);

  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_FALSE(first->cache_hit);
  ASSERT_EQ(first->steps.size(), 3u);
  EXPECT_EQ(first->steps[0].command, "npm ci");
  EXPECT_EQ(first->steps[1].command, "npm run build");
  EXPECT_EQ(first->steps[2].command, "npm prune --omit=dev");
  EXPECT_NE(read_file(first->log_file).find("$ cd " + first->work_dir.string() + " && npm ci"), std::string::npos);
  EXPECT_EQ(first->artifact.parent_path(), path("state/artifacts"));
  EXPECT_EQ(first->artifact.filename().string(), "fixture-" + first->manifest.version + ".tar.gz");
  EXPECT_EQ(first->manifest.version.size(), 12u);  // a content hash: the folder is not a Git repository
  EXPECT_EQ(first->manifest.runtime, "node");
  EXPECT_EQ(first->manifest.runtime_version, ">=18");
  EXPECT_EQ(first->manifest.start_command, "node server.js");
  EXPECT_EQ(first->manifest.port, 3000);
  EXPECT_EQ(first->manifest.env_var_names, (std::vector<std::string>{"PORT"}));
  EXPECT_FALSE(fs::exists(path("app/node_modules")));  // the source folder is never built in

  Result<Manifest> extracted = extract_artifact(first->artifact, path("extract"));
  ASSERT_TRUE(extracted.ok()) << extracted.error().describe();
  EXPECT_TRUE(fs::exists(path("extract/app/node_modules/ms/package.json")));
  EXPECT_FALSE(fs::exists(path("extract/app/node_modules/is-number")));  // development dependency pruned
  EXPECT_EQ(read_file(path("extract/app/dist/info.txt")), "built: true\n");
  EXPECT_TRUE(fs::exists(path("extract/app/server.js")));

  Result<BuildResult> second = build_app(request);

  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_TRUE(second->cache_hit);
  EXPECT_TRUE(second->steps.empty());
  EXPECT_EQ(second->artifact, first->artifact);
  EXPECT_EQ(second->manifest.payload_checksum, first->manifest.payload_checksum);
  EXPECT_NE(events.back().find("reusing"), std::string::npos);
}

TEST_F(CompilerTest, ChangedSourceIsBuiltAgain) {
  write_file(path("app/package.json"), "{\"name\": \"tiny\", \"version\": \"1.0.0\"}\n");
  write_file(path("app/server.js"), "1;\n");
  BuildRequest request = request_for(path("app"), node_analysis(""));
  Result<BuildResult> first = build_app(request);
  ASSERT_TRUE(first.ok()) << first.error().describe();

  write_file(path("app/server.js"), "2;\n");
  Result<BuildResult> second = build_app(request);

  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_FALSE(second->cache_hit);
  EXPECT_NE(second->manifest.version, first->manifest.version);
  EXPECT_NE(second->artifact, first->artifact);
}

TEST_F(CompilerTest, SameSourceBuiltTwiceAtOnce) {
  // The build step sleeps so that the second build starts while the first
  // one still runs in the work folder that both would use.
  write_file(path("app/package.json"), R"({"name": "twice", "version": "1.0.0", "scripts": {"build": "node build.js"}})"
                                       "\n");
  write_file(path("app/build.js"), "setTimeout(() => {}, 1500);\n");
  write_file(path("app/server.js"), "1;\n");
  BuildRequest request = request_for(path("app"), node_analysis("npm run build"));

  std::optional<Result<BuildResult>> first;
  std::optional<Result<BuildResult>> second;
  std::thread other([&] { second.emplace(build_app(request)); });
  first.emplace(build_app(request));
  other.join();

  ASSERT_TRUE(first->ok()) << first->error().describe();
  ASSERT_TRUE(second->ok()) << second->error().describe();
  EXPECT_EQ((*first)->artifact, (*second)->artifact);
  EXPECT_NE((*first)->cache_hit, (*second)->cache_hit) << "exactly one of the two builds should run the steps";
  EXPECT_TRUE(fs::exists(path("state") / "builds" / ((*first)->work_dir.parent_path().filename().string() + ".lock")));
}

TEST_F(CompilerTest, UnusableStateFolderIsAnError) {
  write_file(path("app/package.json"), "{\"name\": \"tiny\", \"version\": \"1.0.0\"}\n");
  BuildRequest request = request_for(path("app"), node_analysis(""));
  request.state_dir = path("state") / std::string(300, 'x');  // longer than a file name may be

  Result<BuildResult> result = build_app(request);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "build.write_failed");
  EXPECT_NE(result.error().message.find("File name too long"), std::string::npos) << result.error().message;
}

TEST_F(CompilerTest, FailingBuildShowsLastLinesAndReproduceCommand) {
  write_file(path("app/package.json"),
             "{\"name\": \"broken\", \"version\": \"1.0.0\", \"scripts\": {\"build\": \"sh fail.sh\"}}\n");
  write_file(path("app/fail.sh"), "for i in $(seq 1 40); do echo \"compile line $i\"; done\nexit 1\n");
  BuildRequest request = request_for(path("app"), node_analysis("npm run build"));

  Result<BuildResult> result = build_app(request);

  ASSERT_FALSE(result.ok());
  const Error& error = result.error();
  EXPECT_EQ(error.code, "build.step_failed");
  EXPECT_NE(error.message.find("`npm run build` failed with exit code 1"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("compile line 40"), std::string::npos);
  EXPECT_EQ(error.message.find("compile line 10\n"), std::string::npos);
  EXPECT_NE(error.remediation.find(" && npm run build"), std::string::npos) << error.remediation;
  EXPECT_NE(error.remediation.find(path("state/builds").string()), std::string::npos);
  EXPECT_NE(error.remediation.find("build.log"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("state/artifacts")));
}

TEST_F(CompilerTest, ReproduceCommandFailsTheSameWay) {
  write_file(path("app/package.json"), "{\"name\": \"broken\", \"version\": \"1.0.0\"}\n");
  repo::Analysis analysis = node_analysis("echo about to fail && exit 7");
  BuildRequest request = request_for(path("app"), analysis);

  Result<BuildResult> result = build_app(request);

  ASSERT_FALSE(result.ok());
  std::string remediation = result.error().remediation;
  std::string command = remediation.substr(remediation.find("cd "), remediation.find('\n') - remediation.find("cd "));
  EXPECT_EQ(std::system(("/bin/sh -c '" + command + "' > /dev/null").c_str()) >> 8, 7) << command;
}

TEST_F(CompilerTest, MissingPoetryIsReportedBeforeRunning) {
  write_file(path("api/pyproject.toml"), "[tool.poetry]\nname = \"api\"\n");
  write_file(path("api/poetry.lock"), "# empty lock\n");
  write_file(path("api/app.py"), "print('hi')\n");
  repo::Analysis analysis;
  analysis.language.value = "python";
  BuildRequest request = request_for(path("api"), analysis);
  request.search_path = "/usr/bin:/bin";

  Result<BuildResult> result = build_app(request);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "build.tool_missing");
  EXPECT_NE(result.error().message.find("poetry install --no-root --only main"), std::string::npos);
  EXPECT_NE(result.error().message.find("poetry.lock"), std::string::npos);
  EXPECT_NE(result.error().message.find("/usr/bin:/bin"), std::string::npos);
  EXPECT_NE(result.error().remediation.find("Poetry"), std::string::npos);
}

TEST_F(CompilerTest, MissingPipOnSanitizedPathIsReported) {
  write_file(path("api/requirements.txt"), "flask==3.0.0\n");
  repo::Analysis analysis;
  analysis.language.value = "python";
  BuildRequest request = request_for(path("api"), analysis);
  request.search_path = path("empty-bin").string();

  Result<BuildResult> result = build_app(request);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "build.tool_missing");
  EXPECT_NE(result.error().message.find("python3"), std::string::npos);
}

TEST_F(CompilerTest, UnsafeSymlinkStopsBuild) {
  write_file(path("app/package.json"), "{}\n");
  fs::create_symlink("/etc/passwd", path("app/passwd"));

  Result<BuildResult> result = build_app(request_for(path("app"), node_analysis("")));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "build.bad_symlink");
}

TEST_F(CompilerTest, DirtyCommitVersionsAreDistinct) {
  write_file(path("app/index.html"), "<p>one</p>\n");
  repo::Analysis analysis;
  analysis.language.value = "static";
  BuildRequest request = request_for(path("app"), analysis);
  request.source.commit = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

  Result<BuildResult> clean = build_app(request);
  request.source.dirty = true;
  Result<BuildResult> dirty = build_app(request);

  ASSERT_TRUE(clean.ok()) << clean.error().describe();
  ASSERT_TRUE(dirty.ok()) << dirty.error().describe();
  EXPECT_EQ(clean->manifest.version, "1a2b3c4d");
  EXPECT_EQ(clean->manifest.commit, request.source.commit);
  EXPECT_EQ(dirty->manifest.version.rfind("1a2b3c4d-dirty-", 0), 0u);
  EXPECT_TRUE(dirty->manifest.dirty);
}

TEST(DefaultAppNameTest, DerivesFromLocation) {
  EXPECT_EQ(default_app_name("git@github.com:team/Shop_Front.git", ""), "shop-front");
  EXPECT_EQ(default_app_name("/home/me/projects/api/", ""), "api");
  EXPECT_EQ(default_app_name("https://example.com/mono.git", "apps/web"), "web");
  EXPECT_EQ(default_app_name("///", ""), "app");
}

}  // namespace
}  // namespace hivemind::build
