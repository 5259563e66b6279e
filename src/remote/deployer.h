#pragma once

// Dan the Deployer's host-side work: puts one release of an application on a
// host over an open Session and starts it, or stops it again. It uses
// no deployment, AWS or sandbox types: the caller resolves the host,
// reads the secrets and passes plain requests.
//
// Every step runs one script from scripts.h (or the few below) on the host
// through `sh -s`; Session logs each command, its exit status and duration
// under the component "deployer", and this file logs the step it belongs to.
//
// Thread safety: the functions use the Session they are given, which is not
// thread safe; call them from one thread per session.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "remote/scripts.h"
#include "remote/session.h"

namespace hivemind::remote {

// The folder inside a HiveMind artifact that contains the application.
inline constexpr std::string_view kArtifactPayloadFolder = "app";

// Extracts only the artifact's payload folder into the release folder, one
// level up, so that the app's own files sit at the release's root where the
// start program and the dependency install expect them. Removes the upload.
std::string unpack_payload_script(const ReleaseLayout& layout, std::string_view artifact_path);

// Waits for cloud-init (which installs the runtime from the user data) to
// finish on hosts that have it; fails when cloud-init reports an error.
std::string wait_for_host_setup_script();

// Prints the version that `current` points to, or nothing before the first
// release.
std::string current_release_script(const ReleaseLayout& layout);

// Prints the last `lines` lines of the app's log, or nothing when it has none.
std::string app_log_tail_script(const ReleaseLayout& layout, int lines);

// Maps a manifest's runtime name ("node", "python", ...) to the runtimes whose
// dependencies the deployer installs; any other runtime installs nothing.
Runtime runtime_from_name(std::string_view name);

// A short step of a deployment, as progress reports name it.
using StepCallback = std::function<void(std::string_view step)>;

struct ReleaseRequest {
  std::string app;      // checked by make_release_layout()
  std::string version;  // likewise
  std::string base = std::string(kDefaultBaseFolder);
  std::filesystem::path artifact;  // the local .tar.gz written by build::write_artifact()
  Runtime runtime = Runtime::kNone;
  std::string start_command;  // run in the release folder, e.g. "node server.js"
  int port = 0;               // 0: a worker with no port, checked by its status instead
  // Written to shared/.env, mode 0600; values never reach a log or a command line.
  std::vector<std::pair<std::string, Secret>> environment;
  // systemd runs the app as this user; empty runs it as root.
  std::string run_as_user;
  // Runs the systemd steps through `sudo -n`, for a login user that is not root.
  bool sudo_for_systemd = true;
  std::chrono::seconds listen_timeout{90};
  std::chrono::seconds host_setup_timeout{900};
  std::chrono::seconds step_timeout{900};
  int keep_releases = 3;  // raised to 2 at least, so that the previous release remains
  StepCallback on_step;
};

struct ReleaseOutcome {
  ReleaseLayout layout;
  InitSystem init = InitSystem::kFallback;
  std::string previous_version;  // empty on the first release
};

// Installs and starts the release: waits for host setup, detects the init
// system, uploads and unpacks the artifact, installs dependencies, writes the
// environment file, installs the start program and the service, points
// `current` at the release, restarts the app and waits until its port
// listens, then prunes old releases. When the new release does not come up
// and a previous one exists, `current` is pointed back at the previous one
// and the app restarted, so the host keeps serving what it served; the error
// still reports the failure with the tail of the app's log.
Result<ReleaseOutcome> install_release(Session& session, const ReleaseRequest& request);

// Points `current` at release request.version, which must be installed on
// the host already, restarts the app and waits until it runs. A rolling
// update uses it to put the previous release back when the new one starts
// but fails its health check. request.artifact is not used.
Status activate_release(Session& session, const ReleaseRequest& request);

struct StopRequest {
  std::string app;
  std::string base = std::string(kDefaultBaseFolder);
  bool sudo_for_systemd = true;
  std::chrono::seconds timeout{60};
};

// Stops the app under whichever service runs it. Stopping an app that is not
// running, or was never installed, succeeds.
Status stop_release(Session& session, const StopRequest& request);

}  // namespace hivemind::remote
