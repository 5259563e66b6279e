#include "remote/scripts.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/temp_dir.h"

namespace hivemind::remote {
namespace {

ReleaseLayout shop_layout() {
  auto layout = make_release_layout("shop", "v42");
  EXPECT_TRUE(layout.ok());
  return *layout;
}

TEST(ShellQuote, EscapesSingleQuotes) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ReleaseLayout, PathsUnderBaseFolder) {
  ReleaseLayout layout = shop_layout();
  EXPECT_EQ(layout.release_folder(), "/opt/hivemind/shop/releases/v42");
  EXPECT_EQ(layout.current_link(), "/opt/hivemind/shop/current");
  EXPECT_EQ(layout.env_file(), "/opt/hivemind/shop/shared/.env");
  EXPECT_EQ(layout.log_file(), "/opt/hivemind/shop/logs/app.log");
  EXPECT_EQ(layout.systemd_service(), "hivemind-shop.service");
}

TEST(ReleaseLayout, RejectsNamesUnsafeInScripts) {
  const char* invalid_names[] = {"", "-rf", ".hidden", "a b", "a/b", "a;b", "$(id)", "x'y"};
  for (const char* name : invalid_names) {
    auto app = make_release_layout(name, "v1");
    EXPECT_FALSE(app.ok()) << "app " << name;
    auto version = make_release_layout("shop", name);
    EXPECT_FALSE(version.ok()) << "version " << name;
  }
  EXPECT_FALSE(make_release_layout("shop", "v1", "relative/base").ok());
  EXPECT_FALSE(make_release_layout("shop", "v1", "/opt/../etc").ok());
  EXPECT_FALSE(make_release_layout("shop", std::string(65, 'a')).ok());
  EXPECT_TRUE(make_release_layout("shop_2.api-x", "2026.12.04-1a2b", "/srv/apps").ok());
}

TEST(ReleaseLayout, ErrorNamesValueAndRule) {
  auto layout = make_release_layout("shop", "v 1");
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().message, "Invalid release version \"v 1\".");
  EXPECT_EQ(layout.error().remediation, "Use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.");
}

TEST(Scripts, PrepareRelease) {
  EXPECT_EQ(prepare_release_script(shop_layout()),
            "set -eu\n"
            "mkdir -p /opt/hivemind/shop/releases/v42 /opt/hivemind/shop/shared /opt/hivemind/shop/logs "
            "/opt/hivemind/shop/run /opt/hivemind/shop/bin\n"
            "chmod 0700 /opt/hivemind/shop/shared\n");
}

TEST(Scripts, UnpackArtifactQuotesPath) {
  EXPECT_EQ(unpack_artifact_script(shop_layout(), "/tmp/shop v42.tar.gz"),
            "set -eu\n"
            "tar -xzf '/tmp/shop v42.tar.gz' -C /opt/hivemind/shop/releases/v42 --no-same-owner\n"
            "rm -f '/tmp/shop v42.tar.gz'\n");
}

TEST(Scripts, InstallNodeDependenciesOnlyWhenMissing) {
  EXPECT_EQ(install_dependencies_script(shop_layout(), Runtime::kNode),
            "set -eu\n"
            "cd /opt/hivemind/shop/releases/v42\n"
            "if [ -f package.json ] && [ ! -d node_modules ]; then\n"
            "  if [ -f package-lock.json ]; then\n"
            "    npm ci --omit=dev\n"
            "  else\n"
            "    npm install --omit=dev\n"
            "  fi\n"
            "fi\n");
  EXPECT_EQ(install_dependencies_script(shop_layout(), Runtime::kNone), "true\n");
}

TEST(Scripts, DetectInitSystem) {
  EXPECT_EQ(detect_init_system_script(),
            "if [ -d /run/systemd/system ] || pidof systemd >/dev/null 2>&1; then\n"
            "  echo systemd\n"
            "else\n"
            "  echo fallback\n"
            "fi\n");
  EXPECT_EQ(*parse_init_system("systemd\n"), InitSystem::kSystemd);
  EXPECT_EQ(*parse_init_system("fallback\n"), InitSystem::kFallback);
  EXPECT_FALSE(parse_init_system("upstart\n").ok());
}

TEST(Scripts, SystemdUnitRestartsAlwaysWithEnvironmentFile) {
  ServiceSpec service{"node server.js", "hivemind"};
  EXPECT_EQ(systemd_unit(shop_layout(), service),
            "[Unit]\n"
            "Description=HiveMind application shop\n"
            "After=network-online.target\n"
            "Wants=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=simple\n"
            "User=hivemind\n"
            "WorkingDirectory=/opt/hivemind/shop/current\n"
            "EnvironmentFile=-/opt/hivemind/shop/shared/.env\n"
            "ExecStart=/bin/sh /opt/hivemind/shop/bin/start.sh\n"
            "Restart=always\n"
            "RestartSec=2\n"
            "StandardOutput=append:/opt/hivemind/shop/logs/app.log\n"
            "StandardError=append:/opt/hivemind/shop/logs/app.log\n"
            "\n"
            "[Install]\n"
            "WantedBy=multi-user.target\n");
}

TEST(Scripts, InstallSystemdUnitEnablesIt) {
  std::string script = install_systemd_unit_script(shop_layout(), ServiceSpec{"node server.js", ""});
  std::string unit = systemd_unit(shop_layout(), ServiceSpec{"node server.js", ""});
  EXPECT_EQ(script,
            "set -eu\n"
            "cat >/etc/systemd/system/hivemind-shop.service <<'HIVEMIND_UNIT_EOF'\n" +
                unit +
                "HIVEMIND_UNIT_EOF\n"
                "systemctl daemon-reload\n"
                "systemctl enable hivemind-shop.service\n");
  EXPECT_EQ(unit.find("User="), std::string::npos);
}

TEST(Scripts, StartProgramExecsCommandInCurrent) {
  EXPECT_EQ(install_start_program_script(shop_layout(), ServiceSpec{"node server.js", ""}),
            "set -eu\n"
            "cat >/opt/hivemind/shop/bin/start.sh <<'HIVEMIND_START_EOF'\n"
            "#!/bin/sh\n"
            "# Starts shop from its current release. Written by HiveMind.\n"
            "cd /opt/hivemind/shop/current\n"
            "exec node server.js\n"
            "HIVEMIND_START_EOF\n"
            "chmod 0755 /opt/hivemind/shop/bin/start.sh\n");
}

TEST(Scripts, SwitchCurrentRenamesTemporaryLink) {
  EXPECT_EQ(switch_current_script(shop_layout()),
            "set -eu\n"
            "cd /opt/hivemind/shop\n"
            "test -d releases/v42\n"
            "ln -sfn releases/v42 current.new\n"
            "mv -T current.new current\n");
}

TEST(Scripts, SystemdStartStopStatus) {
  ReleaseLayout layout = shop_layout();
  EXPECT_EQ(start_script(layout, InitSystem::kSystemd), "systemctl start hivemind-shop.service\n");
  EXPECT_EQ(stop_script(layout, InitSystem::kSystemd), "systemctl stop hivemind-shop.service\n");
  EXPECT_EQ(restart_script(layout, InitSystem::kSystemd), "systemctl restart hivemind-shop.service\n");
  EXPECT_EQ(status_script(layout, InitSystem::kSystemd),
            "if systemctl is-active --quiet hivemind-shop.service; then\n"
            "  echo \"running (systemd unit hivemind-shop.service)\"\n"
            "  exit 0\n"
            "fi\n"
            "echo \"stopped\"\n"
            "exit 3\n");
}

TEST(Scripts, FallbackStartIsDetachedFromSession) {
  EXPECT_EQ(start_script(shop_layout(), InitSystem::kFallback),
            "set -eu\n"
            "pid_file=/opt/hivemind/shop/run/supervisor.pid\n"
            "if [ -f \"$pid_file\" ] && kill -0 \"$(cat \"$pid_file\")\" 2>/dev/null; then\n"
            "  echo \"shop is already running under its supervisor (pid $(cat \"$pid_file\"))\"\n"
            "  exit 0\n"
            "fi\n"
            "setsid nohup /bin/sh /opt/hivemind/shop/bin/supervise.sh >/dev/null 2>&1 </dev/null &\n"
            "echo \"shop started under the fallback supervisor\"\n");
}

TEST(Scripts, WaitForPortUsesSsOrProcNet) {
  EXPECT_EQ(wait_for_port_script(3000, 30),
            "i=0\n"
            "while [ \"$i\" -lt 30 ]; do\n"
            "  if command -v ss >/dev/null 2>&1; then\n"
            "    if ss -Hltn 'sport = :3000' | grep -q .; then\n"
            "      exit 0\n"
            "    fi\n"
            "  elif grep -q ':0BB8 [0-9A-F]*:[0-9A-F]* 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then\n"
            "    exit 0\n"
            "  fi\n"
            "  i=$((i + 1))\n"
            "  sleep 1\n"
            "done\n"
            "echo \"nothing listens on TCP port 3000 after 30 s\" >&2\n"
            "exit 1\n");
}

TEST(Scripts, PruneKeepsAtLeastTwoReleases) {
  std::string expected_for_keep_2 =
      "set -eu\n"
      "cd /opt/hivemind/shop/releases\n"
      "current=$(readlink ../current || true)\n"
      "current=${current##*/}\n"
      "ls -1tc | tail -n +3 | while IFS= read -r release; do\n"
      "  if [ \"$release\" != \"$current\" ]; then\n"
      "    rm -rf -- \"$release\"\n"
      "    echo \"removed release $release\"\n"
      "  fi\n"
      "done\n";
  EXPECT_EQ(prune_releases_script(shop_layout(), 2), expected_for_keep_2);
  EXPECT_EQ(prune_releases_script(shop_layout(), 0), expected_for_keep_2);
  EXPECT_NE(prune_releases_script(shop_layout(), 5).find("tail -n +6 |"), std::string::npos);
}

// Checks the syntax of every script with the local sh -n, which catches a
// broken quote or a lost line break that an exact-string test may not show.
TEST(Scripts, AllParseAsPosixSh) {
  ReleaseLayout layout = shop_layout();
  ServiceSpec service{"node server.js", ""};
  std::vector<std::pair<std::string, std::string>> scripts = {
      {"prepare", prepare_release_script(layout)},
      {"unpack", unpack_artifact_script(layout, "/tmp/a b.tar.gz")},
      {"node", install_dependencies_script(layout, Runtime::kNode)},
      {"python", install_dependencies_script(layout, Runtime::kPython)},
      {"detect", detect_init_system_script()},
      {"start_program", install_start_program_script(layout, service)},
      {"unit", install_systemd_unit_script(layout, service)},
      {"supervisor", supervisor_program(layout)},
      {"install_supervisor", install_supervisor_script(layout)},
      {"switch", switch_current_script(layout)},
      {"wait", wait_for_port_script(8080, 5)},
      {"prune", prune_releases_script(layout, 3)},
  };
  for (InitSystem init : {InitSystem::kSystemd, InitSystem::kFallback}) {
    scripts.emplace_back("start", start_script(layout, init));
    scripts.emplace_back("stop", stop_script(layout, init));
    scripts.emplace_back("restart", restart_script(layout, init));
    scripts.emplace_back("status", status_script(layout, init));
  }

  hivemind::testing::TempDir dir;
  for (const auto& [name, text] : scripts) {
    std::filesystem::path file = dir.path() / (name + ".sh");
    std::ofstream(file) << text;
    std::string command = "sh -n " + file.string() + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << name << ":\n" << text;
  }
}

TEST(Scripts, ScriptRunner) {
  EXPECT_EQ(script_runner(false), "sh -s");
  EXPECT_EQ(script_runner(true), "sudo -n sh -s");
}

TEST(EnvFile, EscapesShellSpecialCharacters) {
  auto rendered = render_env_file({{"PLAIN", Secret("abc")}, {"TRICKY", Secret("a\"b$c`d\\e f")}});
  ASSERT_TRUE(rendered.ok()) << rendered.error().describe();
  EXPECT_EQ(rendered->reveal(),
            "PLAIN=\"abc\"\n"
            "TRICKY=\"a\\\"b\\$c\\`d\\\\e f\"\n");
}

TEST(EnvFile, RejectsInvalidName) {
  auto rendered = render_env_file({{"1BAD", Secret("x")}});
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.error().message, "Invalid environment variable name \"1BAD\".");
}

}  // namespace
}  // namespace hivemind::remote
