#pragma once

// The shell scripts that the deployer runs on a host, built by pure
// functions so that each one can be read and tested as an exact string.
// Every script is POSIX sh, meant to be fed on standard input to `sh -s`
// (or `sudo -n sh -s`, see script_runner), so that nothing but the runner
// appears in the host's process list.
//
// Layout on the host, under <base>/<app> (base /opt/hivemind by default):
//   releases/<version>/  one unpacked artifact per release
//   current -> releases/<version>, switched atomically
//   shared/.env          environment file, mode 0600
//   bin/start.sh         starts the app in `current`
//   bin/supervise.sh     fallback supervisor, on hosts without systemd
//   logs/app.log         the app's stdout and stderr
//   run/app.pid, run/supervisor.pid

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace hivemind::remote {

inline constexpr std::string_view kDefaultBaseFolder = "/opt/hivemind";

// Quotes `text` as one sh word: 'text', with each ' written as '\''.
std::string shell_quote(std::string_view text);

// Paths of one release of an application on a host. Made only by
// make_release_layout(), which checks each name, so that the builders can
// paste the paths into scripts without quoting.
struct ReleaseLayout {
  std::string base;     // e.g. /opt/hivemind
  std::string app;      // e.g. shop
  std::string version;  // e.g. 20261204-1a2b3c

  std::string app_folder() const { return base + "/" + app; }
  std::string releases_folder() const { return app_folder() + "/releases"; }
  std::string release_folder() const { return releases_folder() + "/" + version; }
  std::string current_link() const { return app_folder() + "/current"; }
  std::string env_file() const { return app_folder() + "/shared/.env"; }
  std::string start_program() const { return app_folder() + "/bin/start.sh"; }
  std::string supervisor_program() const { return app_folder() + "/bin/supervise.sh"; }
  std::string log_file() const { return app_folder() + "/logs/app.log"; }
  std::string app_pid_file() const { return app_folder() + "/run/app.pid"; }
  std::string supervisor_pid_file() const { return app_folder() + "/run/supervisor.pid"; }
  std::string systemd_service() const { return "hivemind-" + app + ".service"; }
};

// Checks the names: app and version are 1 to 64 characters of letters,
// digits, '.', '_' and '-', not starting with '.' or '-'; base is an absolute
// path of the same characters and '/'.
Result<ReleaseLayout> make_release_layout(std::string_view app, std::string_view version,
                                          std::string_view base = kDefaultBaseFolder);

enum class Runtime { kNone, kNode, kPython };
enum class InitSystem { kSystemd, kFallback };

struct ServiceSpec {
  // One command run in the current release folder, e.g. "node server.js".
  // It is exec'd, so that the pid file and signals reach the app itself;
  // anything compound belongs in a script inside the artifact.
  std::string start_command;
  // User that systemd runs the app as; empty runs it as root. The fallback
  // supervisor runs the app as the user that starts it.
  std::string run_as_user;
};

// The command that runs a script given on its standard input.
std::string script_runner(bool as_root_with_sudo);

// Creates the release folder and the app's shared, logs, run and bin folders.
std::string prepare_release_script(const ReleaseLayout& layout);

// Unpacks the artifact (a .tar.gz already uploaded to `artifact_path`) into
// the release folder, then removes the uploaded file.
std::string unpack_artifact_script(const ReleaseLayout& layout, std::string_view artifact_path);

// Installs the runtime dependencies in the release folder when the artifact
// does not bring them (no node_modules, no .venv).
std::string install_dependencies_script(const ReleaseLayout& layout, Runtime runtime);

// Prints "systemd" when systemd is the host's init system, else "fallback".
std::string detect_init_system_script();
Result<InitSystem> parse_init_system(std::string_view output);

// Writes bin/start.sh, which enters `current`, loads nothing else and execs
// the start command.
std::string install_start_program_script(const ReleaseLayout& layout, const ServiceSpec& service);

// The unit file text, and the script that installs and enables it.
std::string systemd_unit(const ReleaseLayout& layout, const ServiceSpec& service);
std::string install_systemd_unit_script(const ReleaseLayout& layout, const ServiceSpec& service);

// The fallback supervisor's program text, and the script that installs it.
std::string supervisor_program(const ReleaseLayout& layout);
std::string install_supervisor_script(const ReleaseLayout& layout);

// Points `current` at this release with a rename, so that a reader sees the
// old link or the new one, never none.
std::string switch_current_script(const ReleaseLayout& layout);

std::string start_script(const ReleaseLayout& layout, InitSystem init);
std::string stop_script(const ReleaseLayout& layout, InitSystem init);
std::string restart_script(const ReleaseLayout& layout, InitSystem init);
// Exits 0 and prints "running ..." when the app runs, else exits 3.
std::string status_script(const ReleaseLayout& layout, InitSystem init);

// Polls once a second, up to `max_seconds`, until something listens on TCP
// `port`; uses ss(8), or /proc/net/tcp where ss is missing. Exits 1 when the time runs out.
std::string wait_for_port_script(int port, int max_seconds);

// Removes the oldest releases (by the change time of their folder) beyond
// the `keep` newest, never the one `current` points to. `keep` is raised to
// 2, so that the previous release always remains for a rollback.
std::string prune_releases_script(const ReleaseLayout& layout, int keep);

// Renders KEY="value" lines for sh (`set -a; . file`) and systemd's
// EnvironmentFile=: inside double quotes \, ", $ and ` are escaped with a
// backslash. Fails on a name that is not [A-Za-z_][A-Za-z0-9_]*.
// NOTE: tested with sh only; systemd's reading of the escapes is unverified.
Result<Secret> render_env_file(const std::vector<std::pair<std::string, Secret>>& variables);

}  // namespace hivemind::remote
