// The systemd unit the deployer writes, checked by systemd's own parser
// (`systemd-analyze verify`, which loads a unit file without a running
// systemd). The test machine has no systemd as its init system, so the unit
// is never started here; this checks what systemd would read.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/process.h"
#include "remote/scripts.h"
#include "support/temp_dir.h"

namespace hivemind::remote {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAnalyze = "/usr/bin/systemd-analyze";

class SystemdUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kAnalyze)) GTEST_SKIP() << "systemd-analyze is not installed; run scripts/setup";
  }

  // Returns what systemd-analyze printed about the unit; empty means that
  // systemd read every line without a complaint.
  std::string verify(const std::string& unit_text) {
    fs::path unit = folder_.path() / "hivemind-shop.service";
    std::ofstream(unit) << unit_text;
    ProcessOptions options;
    options.environment = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}, {"SYSTEMD_LOG_COLOR", "0"}};
    options.timeout = std::chrono::seconds(30);
    auto result = run_process({kAnalyze, "verify", "--man=no", unit.string()}, options);
    if (!result.ok()) return result.error().describe();
    if (result->exit_code != 0 && result->output.empty()) return "exit code " + std::to_string(result->exit_code);
    return result->output;
  }

  ReleaseLayout layout() {
    auto made = make_release_layout("shop", "v42");
    EXPECT_TRUE(made.ok());
    return *made;
  }

  testing::TempDir folder_;
};

TEST_F(SystemdUnitTest, UnitWithUserParsesCleanly) {
  EXPECT_EQ(verify(systemd_unit(layout(), ServiceSpec{"node server.js", "ec2-user"})), "");
}

TEST_F(SystemdUnitTest, UnitAsRootParsesCleanly) {
  EXPECT_EQ(verify(systemd_unit(layout(), ServiceSpec{"node server.js", ""})), "");
}

// Guards the check itself: a value systemd does not accept must be reported.
TEST_F(SystemdUnitTest, InvalidRestartValueIsReported) {
  std::string unit = systemd_unit(layout(), ServiceSpec{"node server.js", ""});
  unit.replace(unit.find("Restart=always"), 14, "Restart=sometimes");

  EXPECT_NE(verify(unit).find("sometimes"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::remote
