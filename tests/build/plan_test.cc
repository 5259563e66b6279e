#include "build/plan.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

repo::Analysis analysis_of(const std::string& language) {
  repo::Analysis analysis;
  analysis.language.value = language;
  return analysis;
}

std::vector<std::string> commands(const std::vector<BuildStep>& steps) {
  std::vector<std::string> result;
  for (const BuildStep& step : steps) result.push_back(step.command);
  return result;
}

class PlanTest : public ::testing::Test {
 protected:
  void touch(const std::string& name) { std::ofstream(temp_.path() / name) << "\n"; }
  std::vector<BuildStep> plan(const repo::Analysis& analysis) { return plan_build(analysis, temp_.path()); }

  testing::TempDir temp_;
};

TEST_F(PlanTest, NpmLockfileUsesNpmCi) {
  touch("package-lock.json");

  EXPECT_EQ(commands(plan(analysis_of("node"))), (std::vector<std::string>{"npm ci", "npm prune --omit=dev"}));
}

TEST_F(PlanTest, YarnLockfileIsFrozen) {
  touch("yarn.lock");

  std::vector<BuildStep> steps = plan(analysis_of("node"));

  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].command, "yarn install --frozen-lockfile");
  EXPECT_EQ(steps[0].tool, "yarn");
  EXPECT_EQ(steps[1].command, "yarn install --frozen-lockfile --production --ignore-scripts");
}

TEST_F(PlanTest, PnpmLockfileIsFrozen) {
  touch("pnpm-lock.yaml");

  EXPECT_EQ(commands(plan(analysis_of("node"))),
            (std::vector<std::string>{"pnpm install --frozen-lockfile", "pnpm prune --prod"}));
}

TEST_F(PlanTest, NoLockfileUsesNpmInstall) {
  EXPECT_EQ(commands(plan(analysis_of("node"))), (std::vector<std::string>{"npm install", "npm prune --omit=dev"}));
}

TEST_F(PlanTest, BuildCommandRunsThroughShell) {
  touch("package-lock.json");
  repo::Analysis analysis = analysis_of("node");
  analysis.build_command =
      repo::Finding<std::string>{"npm run build", repo::Origin::kDetected, {"package.json", 5, ""}};

  std::vector<BuildStep> steps = plan(analysis);

  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1].command, "npm run build");
  EXPECT_EQ(steps[1].argv, (std::vector<std::string>{"/bin/sh", "-c", "npm run build"}));
  EXPECT_EQ(steps[1].tool, "npm");
  EXPECT_EQ(steps[1].reason, "package.json");
}

TEST_F(PlanTest, ToolCommandsRunWithoutShell) {
  touch("package-lock.json");

  std::vector<BuildStep> steps = plan(analysis_of("node"));

  EXPECT_EQ(steps[0].argv, (std::vector<std::string>{"npm", "ci"}));
}

TEST_F(PlanTest, ConfiguredInstallReplacesLockfileChoice) {
  touch("package-lock.json");
  repo::Analysis analysis = analysis_of("node");
  analysis.install_command = repo::Finding<std::string>{"npm ci --ignore-scripts", repo::Origin::kConfig, {}};

  EXPECT_EQ(commands(plan(analysis)), (std::vector<std::string>{"npm ci --ignore-scripts"}));
}

TEST_F(PlanTest, PythonLockfilesPickTheirTool) {
  struct Case {
    const char* lockfile;
    const char* command;
  };
  const Case cases[] = {
      {"poetry.lock", "poetry install --no-root --only main"},
      {"uv.lock", "uv sync --frozen --no-dev"},
      {"Pipfile.lock", "pipenv install --deploy"},
      {"requirements.txt", "python3 -m pip install --no-input --target .python_packages -r requirements.txt"},
  };
  for (const Case& test_case : cases) {
    testing::TempDir folder;
    std::ofstream(folder.path() / test_case.lockfile) << "\n";

    std::vector<BuildStep> steps = plan_build(analysis_of("python"), folder.path());

    ASSERT_EQ(steps.size(), 1u) << test_case.lockfile;
    EXPECT_EQ(steps[0].command, test_case.command) << test_case.lockfile;
  }
}

TEST_F(PlanTest, OtherLanguagesUseTheirBuildTools) {
  EXPECT_EQ(commands(plan(analysis_of("go"))),
            (std::vector<std::string>{"go mod download", "go build -mod=readonly -o app ."}));
  EXPECT_EQ(commands(plan(analysis_of("rust"))), (std::vector<std::string>{"cargo build --release --locked"}));
  touch("pom.xml");
  EXPECT_EQ(commands(plan(analysis_of("java"))), (std::vector<std::string>{"mvn -B -DskipTests package"}));
  touch("mvnw");
  EXPECT_EQ(commands(plan(analysis_of("java"))), (std::vector<std::string>{"./mvnw -B -DskipTests package"}));
}

TEST_F(PlanTest, StaticSiteHasNoSteps) { EXPECT_TRUE(plan(analysis_of("static")).empty()); }

TEST_F(PlanTest, InstallHintNamesTheTool) {
  EXPECT_NE(install_hint("poetry").find("Poetry"), std::string::npos);
  EXPECT_NE(install_hint("unknown-tool").find("unknown-tool"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::build
