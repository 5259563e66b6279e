#include "remote/scripts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace hivemind::remote {
// The script templates below are raw strings that clang-format must not
// reflow.
// clang-format off
namespace {

// Replaces each @NAME@ token of `text` by its value. Templates use tokens
// rather than fmt's braces because the scripts are full of ${...}.
std::string substitute(std::string text, std::initializer_list<std::pair<std::string_view, std::string>> values) {
  for (const auto& [token, value] : values) {
    for (std::size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
      text.replace(at, token.size(), value);
    }
  }
  return text;
}

bool is_name_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), is_name_character);
}

bool is_valid_base(std::string_view base) {
  if (base.size() < 2 || base[0] != '/' || base.back() == '/') return false;
  if (base.find("/.") != std::string_view::npos) return false;
  return std::all_of(base.begin(), base.end(), [](char c) { return c == '/' || is_name_character(c); });
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string start_fallback(const ReleaseLayout& layout) {
  return substitute(R"sh(set -eu
pid_file=@SUPERVISOR_PID@
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "@APP@ is already running under its supervisor (pid $(cat "$pid_file"))"
  exit 0
fi
setsid nohup /bin/sh @SUPERVISOR@ >/dev/null 2>&1 </dev/null &
echo "@APP@ started under the fallback supervisor"
)sh",
                    {{"@SUPERVISOR_PID@", layout.supervisor_pid_file()},
                     {"@SUPERVISOR@", layout.supervisor_program()},
                     {"@APP@", layout.app}});
}

// Stops the supervisor first, so that it cannot restart the app, then waits
// up to 10 s for the app to exit and kills its process group if it has not.
// Signals go to a process group as `kill -s SIG -- -PGID` here and in the
// supervisor, because dash (Debian's /bin/sh) rejects `kill -SIG -- -PGID`,
// and the fallback to the leader's pid alone leaves `npm start`'s node child
// running.
std::string stop_fallback(const ReleaseLayout& layout) {
  return substitute(R"sh(set -u
supervisor_pid_file=@SUPERVISOR_PID@
app_pid_file=@APP_PID@
app_pid=$(cat "$app_pid_file" 2>/dev/null || true)
if [ -f "$supervisor_pid_file" ]; then
  kill -TERM "$(cat "$supervisor_pid_file")" 2>/dev/null || true
fi
if [ -n "$app_pid" ]; then
  i=0
  while kill -0 "$app_pid" 2>/dev/null && [ "$i" -lt 20 ]; do
    sleep 0.5
    i=$((i + 1))
  done
  kill -s KILL -- "-$app_pid" 2>/dev/null || kill -s KILL "$app_pid" 2>/dev/null || true
fi
rm -f "$supervisor_pid_file" "$app_pid_file"
echo "@APP@ stopped"
)sh",
                    {{"@SUPERVISOR_PID@", layout.supervisor_pid_file()},
                     {"@APP_PID@", layout.app_pid_file()},
                     {"@APP@", layout.app}});
}

std::string status_fallback(const ReleaseLayout& layout) {
  return substitute(R"sh(supervisor_pid_file=@SUPERVISOR_PID@
if [ -f "$supervisor_pid_file" ] && kill -0 "$(cat "$supervisor_pid_file")" 2>/dev/null; then
  echo "running (supervisor pid $(cat "$supervisor_pid_file"), app pid $(cat @APP_PID@ 2>/dev/null))"
  exit 0
fi
echo "stopped"
exit 3
)sh",
                    {{"@SUPERVISOR_PID@", layout.supervisor_pid_file()}, {"@APP_PID@", layout.app_pid_file()}});
}

}  // namespace

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

Result<ReleaseLayout> make_release_layout(std::string_view app, std::string_view version, std::string_view base) {
  const char* kRule = "1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'";
  if (!is_valid_name(app)) {
    return fail(make_error("remote.invalid_name", fmt::format("Invalid application name \"{}\".", app),
                           fmt::format("Use {}.", kRule)));
  }
  if (!is_valid_name(version)) {
    return fail(make_error("remote.invalid_name", fmt::format("Invalid release version \"{}\".", version),
                           fmt::format("Use {}.", kRule)));
  }
  if (!is_valid_base(base)) {
    return fail(make_error("remote.invalid_name", fmt::format("Invalid base folder \"{}\".", base),
                           "Use an absolute path of letters, digits, '.', '_', '-' and '/', such as /opt/hivemind."));
  }
  return ReleaseLayout{std::string(base), std::string(app), std::string(version)};
}

std::string script_runner(bool as_root_with_sudo) { return as_root_with_sudo ? "sudo -n sh -s" : "sh -s"; }

std::string prepare_release_script(const ReleaseLayout& layout) {
  return substitute(R"sh(set -eu
mkdir -p @RELEASE@ @APP_DIR@/shared @APP_DIR@/logs @APP_DIR@/run @APP_DIR@/bin
chmod 0700 @APP_DIR@/shared
)sh",
                    {{"@RELEASE@", layout.release_folder()}, {"@APP_DIR@", layout.app_folder()}});
}

std::string unpack_artifact_script(const ReleaseLayout& layout, std::string_view artifact_path) {
  return substitute(R"sh(set -eu
tar -xzf @ARTIFACT@ -C @RELEASE@ --no-same-owner
rm -f @ARTIFACT@
)sh",
                    {{"@ARTIFACT@", shell_quote(artifact_path)}, {"@RELEASE@", layout.release_folder()}});
}

std::string install_dependencies_script(const ReleaseLayout& layout, Runtime runtime) {
  switch (runtime) {
    case Runtime::kNode:
      return substitute(R"sh(set -eu
cd @RELEASE@
if [ -f package.json ] && [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then
    npm ci --omit=dev
  else
    npm install --omit=dev
  fi
fi
)sh",
                        {{"@RELEASE@", layout.release_folder()}});
    case Runtime::kPython:
      return substitute(R"sh(set -eu
cd @RELEASE@
if [ -f requirements.txt ] && [ ! -d .venv ]; then
  python3 -m venv .venv
  .venv/bin/pip install --no-cache-dir -r requirements.txt
fi
)sh",
                        {{"@RELEASE@", layout.release_folder()}});
    case Runtime::kNone:
      break;
  }
  return "true\n";
}

std::string detect_init_system_script() {
  return R"sh(if [ -d /run/systemd/system ] || pidof systemd >/dev/null 2>&1; then
  echo systemd
else
  echo fallback
fi
)sh";
}

Result<InitSystem> parse_init_system(std::string_view output) {
  std::string_view word = output.substr(0, output.find_first_of("\r\n"));
  if (word == "systemd") return InitSystem::kSystemd;
  if (word == "fallback") return InitSystem::kFallback;
  return fail(make_error("remote.unknown_init_system",
                         fmt::format("The init system check printed \"{}\", expected systemd or fallback.", output),
                         "Run the check by hand on the host to see what its shell prints."));
}

std::string install_start_program_script(const ReleaseLayout& layout, const ServiceSpec& service) {
  return substitute(R"sh(set -eu
cat >@START@ <<'HIVEMIND_START_EOF'
#!/bin/sh
# Starts @APP@ from its current release. Written by HiveMind.
cd @CURRENT@
exec @COMMAND@
HIVEMIND_START_EOF
chmod 0755 @START@
)sh",
                    {{"@START@", layout.start_program()},
                     {"@CURRENT@", layout.current_link()},
                     {"@COMMAND@", service.start_command},
                     {"@APP@", layout.app}});
}

// NOTE: StandardOutput=append: needs systemd 240 or later, and no test runs
// this unit under a real systemd; it is checked as text only.
std::string systemd_unit(const ReleaseLayout& layout, const ServiceSpec& service) {
  std::string user = service.run_as_user.empty() ? "" : "User=" + service.run_as_user + "\n";
  return substitute(R"sh([Unit]
Description=HiveMind application @APP@
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
@USER@WorkingDirectory=@CURRENT@
EnvironmentFile=-@ENV@
ExecStart=/bin/sh @START@
Restart=always
RestartSec=2
StandardOutput=append:@LOG@
StandardError=append:@LOG@

[Install]
WantedBy=multi-user.target
)sh",
                    {{"@APP@", layout.app},
                     {"@USER@", user},
                     {"@CURRENT@", layout.current_link()},
                     {"@ENV@", layout.env_file()},
                     {"@START@", layout.start_program()},
                     {"@LOG@", layout.log_file()}});
}

std::string install_systemd_unit_script(const ReleaseLayout& layout, const ServiceSpec& service) {
  return substitute(R"sh(set -eu
cat >/etc/systemd/system/@SERVICE@ <<'HIVEMIND_UNIT_EOF'
@UNIT@HIVEMIND_UNIT_EOF
systemctl daemon-reload
systemctl enable @SERVICE@
)sh",
                    {{"@SERVICE@", layout.systemd_service()}, {"@UNIT@", systemd_unit(layout, service)}});
}

// The supervisor starts the app in a new session (setsid without fork, as
// the subshell is no group leader), so the app's pid is also its process
// group id and stop can signal the whole group.
std::string supervisor_program(const ReleaseLayout& layout) {
  return substitute(R"sh(#!/bin/sh
# Fallback supervisor of @APP@ for hosts without systemd. Written by HiveMind.
# Restarts the app whenever it exits, waiting 1, 2, 4 ... up to 30 seconds
# between starts; the wait drops back to 1 second after a run of 60 seconds.
app_dir=@APP_DIR@
log_file=$app_dir/logs/app.log
env_file=$app_dir/shared/.env
app_pid_file=$app_dir/run/app.pid
supervisor_pid_file=$app_dir/run/supervisor.pid
child=

note() {
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) supervisor: $*" >>"$log_file"
}

stop() {
  note "stopping (app pid $child)"
  if [ -n "$child" ]; then
    kill -s TERM -- "-$child" 2>/dev/null || kill -s TERM "$child" 2>/dev/null
  fi
  rm -f "$supervisor_pid_file"
  exit 0
}
trap stop TERM INT

echo $$ >"$supervisor_pid_file"
delay=1
while :; do
  started=$(date +%s)
  (
    if [ -f "$env_file" ]; then
      set -a
      . "$env_file"
      set +a
    fi
    exec setsid /bin/sh "$app_dir/bin/start.sh"
  ) >>"$log_file" 2>&1 </dev/null &
  child=$!
  echo "$child" >"$app_pid_file"
  note "started @APP@ (pid $child)"

  wait "$child"
  status=$?
  ran=$(($(date +%s) - started))
  if [ "$ran" -ge 60 ]; then
    delay=1
  fi
  note "@APP@ exited with status $status after ${ran}s; restarting in ${delay}s"

  sleep "$delay" &
  wait $!
  delay=$((delay * 2))
  if [ "$delay" -gt 30 ]; then
    delay=30
  fi
done
)sh",
                    {{"@APP_DIR@", layout.app_folder()}, {"@APP@", layout.app}});
}

std::string install_supervisor_script(const ReleaseLayout& layout) {
  return substitute(R"sh(set -eu
cat >@SUPERVISOR@ <<'HIVEMIND_SUPERVISOR_EOF'
@PROGRAM@HIVEMIND_SUPERVISOR_EOF
chmod 0755 @SUPERVISOR@
)sh",
                    {{"@SUPERVISOR@", layout.supervisor_program()}, {"@PROGRAM@", supervisor_program(layout)}});
}

std::string switch_current_script(const ReleaseLayout& layout) {
  return substitute(R"sh(set -eu
cd @APP_DIR@
test -d releases/@VERSION@
ln -sfn releases/@VERSION@ current.new
mv -T current.new current
)sh",
                    {{"@APP_DIR@", layout.app_folder()}, {"@VERSION@", layout.version}});
}

std::string start_script(const ReleaseLayout& layout, InitSystem init) {
  if (init == InitSystem::kSystemd) return "systemctl start " + layout.systemd_service() + "\n";
  return start_fallback(layout);
}

std::string stop_script(const ReleaseLayout& layout, InitSystem init) {
  if (init == InitSystem::kSystemd) return "systemctl stop " + layout.systemd_service() + "\n";
  return stop_fallback(layout);
}

std::string restart_script(const ReleaseLayout& layout, InitSystem init) {
  if (init == InitSystem::kSystemd) return "systemctl restart " + layout.systemd_service() + "\n";
  return stop_fallback(layout) + start_fallback(layout);
}

std::string status_script(const ReleaseLayout& layout, InitSystem init) {
  if (init == InitSystem::kSystemd) {
    return substitute(R"sh(if systemctl is-active --quiet @SERVICE@; then
  echo "running (systemd unit @SERVICE@)"
  exit 0
fi
echo "stopped"
exit 3
)sh",
                      {{"@SERVICE@", layout.systemd_service()}});
  }
  return status_fallback(layout);
}

// In /proc/net/tcp a listening socket has state 0A and its local port in
// upper-case hex after the address.
std::string wait_for_port_script(int port, int max_seconds) {
  return substitute(R"sh(i=0
while [ "$i" -lt @MAX@ ]; do
  if command -v ss >/dev/null 2>&1; then
    if ss -Hltn 'sport = :@PORT@' | grep -q .; then
      exit 0
    fi
  elif grep -q ':@HEX@ [0-9A-F]*:[0-9A-F]* 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
    exit 0
  fi
  i=$((i + 1))
  sleep 1
done
echo "nothing listens on TCP port @PORT@ after @MAX@ s" >&2
exit 1
)sh",
                    {{"@MAX@", std::to_string(max_seconds)},
                     {"@PORT@", std::to_string(port)},
                     {"@HEX@", fmt::format("{:04X}", port)}});
}

std::string prune_releases_script(const ReleaseLayout& layout, int keep) {
  return substitute(
      R"sh(set -eu
cd @RELEASES@
current=$(readlink ../current || true)
current=${current##*/}
ls -1tc | tail -n +@FIRST_REMOVED@ | while IFS= read -r release; do
  if [ "$release" != "$current" ]; then
    rm -rf -- "$release"
    echo "removed release $release"
  fi
done
)sh",
      {{"@RELEASES@", layout.releases_folder()}, {"@FIRST_REMOVED@", std::to_string(std::max(keep, 2) + 1)}});
}

Result<Secret> render_env_file(const std::vector<std::pair<std::string, Secret>>& variables) {
  std::string text;
  for (const auto& [name, value] : variables) {
    if (!is_env_name(name)) {
      return fail(make_error("remote.invalid_env_name", fmt::format("Invalid environment variable name \"{}\".", name),
                             "Use letters, digits and '_', not starting with a digit."));
    }
    text += name + "=\"";
    for (char c : value.reveal()) {
      if (c == '\\' || c == '"' || c == '$' || c == '`') text += '\\';
      text += c;
    }
    text += "\"\n";
  }
  return Secret(std::move(text));
}

// clang-format on
}  // namespace hivemind::remote
