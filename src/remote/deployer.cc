#include "remote/deployer.h"

#include <fmt/format.h>

#include "common/log.h"

namespace hivemind::remote {
namespace {

// A step of the release: its name for the log and progress, the script, and
// what the user should do when it fails.
struct Step {
  std::string name;
  std::string script;
  std::string remediation;
  bool as_root = false;
  std::chrono::seconds timeout{900};
};

Result<CommandResult> run_step(Session& session, const Step& step, const StepCallback& on_step) {
  if (on_step) on_step(step.name);
  auto logger = log::get("deployer");
  logger->info("step \"{}\" on {}", step.name, session.target());

  ExecOptions options;
  options.stdin_data = step.script;
  options.timeout = step.timeout;
  Result<CommandResult> result = session.run(script_runner(step.as_root), options);
  if (!result) {
    logger->error("step \"{}\" on {} failed: {}", step.name, session.target(), result.error().message);
    return fail(make_error(
        result.error().code,
        fmt::format("Deploy step \"{}\" failed on {}. {}", step.name, session.target(), result.error().message),
        step.remediation));
  }
  logger->info("step \"{}\" on {} done in {} ms", step.name, session.target(), result->duration.count());
  return result;
}

Status run_step_status(Session& session, const Step& step, const StepCallback& on_step) {
  Result<CommandResult> result = run_step(session, step, on_step);
  if (!result) return fail(result.error());
  return ok_unit();
}

std::string trimmed_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// The tail of the app's log, for an error message; empty when unreadable.
std::string app_log_tail(Session& session, const ReleaseLayout& layout) {
  ExecOptions options;
  options.stdin_data = app_log_tail_script(layout, 20);
  options.timeout = std::chrono::seconds(30);
  Result<CommandResult> tail = session.exec(script_runner(false), options);
  if (!tail || tail->stdout_text.empty()) return "";
  return tail->stdout_text;
}

Result<InitSystem> detect_init_system(Session& session, const StepCallback& on_step) {
  Step step{"detect the init system", detect_init_system_script(), "Check that the host's login shell is sh or bash."};
  step.timeout = std::chrono::seconds(60);
  Result<CommandResult> detected = run_step(session, step, on_step);
  if (!detected) return fail(detected.error());
  return parse_init_system(detected->stdout_text);
}

Result<std::string> read_current_version(Session& session, const ReleaseLayout& layout, const StepCallback& on_step) {
  Step step{"read the current release", current_release_script(layout), "Check that the host's disk is readable."};
  step.timeout = std::chrono::seconds(60);
  Result<CommandResult> current = run_step(session, step, on_step);
  if (!current) return fail(current.error());
  return trimmed_line(current->stdout_text);
}

// Uploads the artifact beside the releases, then unpacks its payload.
Status upload_and_unpack(Session& session, const ReleaseRequest& request, const ReleaseLayout& layout) {
  std::string uploaded = fmt::format("{}/uploads/{}.tar.gz", layout.app_folder(), layout.version);
  if (request.on_step) request.on_step("upload the artifact");
  Status sent = session.upload(request.artifact, uploaded, 0600);
  if (!sent) {
    return fail(make_error(
        sent.error().code,
        fmt::format("Uploading artifact {} to {} failed. {}", request.artifact.string(), session.target(),
                    sent.error().message),
        "Check the free space on the host (df -h /opt) and that the login user owns " + layout.app_folder() + "."));
  }
  return run_step_status(
      session,
      {"unpack the artifact", unpack_payload_script(layout, uploaded),
       "Check the free space on the host and that tar and gzip are installed.", false, request.step_timeout},
      request.on_step);
}

Status write_environment(Session& session, const ReleaseRequest& request, const ReleaseLayout& layout) {
  if (request.on_step) request.on_step("write the environment file");
  Result<Secret> text = render_env_file(request.environment);
  if (!text) return fail(text.error());
  Status written = session.write_secret_file(layout.env_file(), *text);
  if (!written) {
    return fail(make_error(written.error().code,
                           fmt::format("Writing the environment file {} on {} failed. {}", layout.env_file(),
                                       session.target(), written.error().message),
                           "Check that the login user owns " + layout.app_folder() + "/shared."));
  }
  return ok_unit();
}

Status install_service(Session& session, const ReleaseRequest& request, const ReleaseLayout& layout, InitSystem init) {
  ServiceSpec service{request.start_command, request.run_as_user};
  Status status =
      run_step_status(session,
                      {"install the start program", install_start_program_script(layout, service),
                       "Check that the login user owns " + layout.app_folder() + "/bin.", false, request.step_timeout},
                      request.on_step);
  if (!status) return status;
  if (init == InitSystem::kSystemd) {
    return run_step_status(session,
                           {"install the systemd unit", install_systemd_unit_script(layout, service),
                            "The login user needs passwordless sudo to install a systemd unit.",
                            request.sudo_for_systemd, request.step_timeout},
                           request.on_step);
  }
  return run_step_status(
      session,
      {"install the fallback supervisor", install_supervisor_script(layout),
       "Check that the login user owns " + layout.app_folder() + "/bin.", false, request.step_timeout},
      request.on_step);
}

// Restarts the app in `current` and waits until it runs: its port listens,
// or, for a worker, its service reports it running.
Status restart_and_wait(Session& session, const ReleaseRequest& request, const ReleaseLayout& layout, InitSystem init) {
  // NOTE: the systemd branch has not run against a live systemd; only its
  // unit file is checked, with systemd-analyze verify.
  bool as_root = init == InitSystem::kSystemd && request.sudo_for_systemd;
  Status restarted = run_step_status(
      session,
      {"start the app", restart_script(layout, init), "Read the app's log at " + layout.log_file() + " on the host.",
       as_root, std::chrono::seconds(120)},
      request.on_step);
  if (!restarted) return restarted;

  int seconds = static_cast<int>(request.listen_timeout.count());
  std::string wait =
      request.port > 0 ? wait_for_port_script(request.port, seconds) : "sleep 3\n" + status_script(layout, init);
  std::string name = request.port > 0 ? fmt::format("wait until port {} listens", request.port)
                                      : std::string("check that the worker runs");
  return run_step_status(session,
                         {name, wait,
                          fmt::format("Check that the start command \"{}\" listens on the port in $PORT, "
                                      "and read the app's log at {} on the host.",
                                      request.start_command, layout.log_file()),
                          false, request.listen_timeout + std::chrono::seconds(30)},
                         request.on_step);
}

// Points `current` back at the previous release and restarts it. Failures
// are logged only: the caller reports the original error.
void revert_to(Session& session, const ReleaseRequest& request, const std::string& previous, InitSystem init) {
  auto logger = log::get("deployer");
  Result<ReleaseLayout> layout = make_release_layout(request.app, previous, request.base);
  if (!layout) return;
  logger->warn("release {} of {} did not start; switching {} back to release {}", request.version, request.app,
               session.target(), previous);
  ReleaseRequest revert = request;
  revert.version = previous;
  revert.on_step = {};
  Status switched =
      run_step_status(session, {"switch back to the previous release", switch_current_script(*layout), ""}, {});
  if (switched) switched = restart_and_wait(session, revert, *layout, init);
  if (!switched)
    logger->error("could not restore release {} of {}: {}", previous, request.app, switched.error().message);
}

Status prepare(Session& session, const ReleaseRequest& request, const ReleaseLayout& layout) {
  if (request.start_command.empty()) {
    return fail(make_error("remote.no_start_command",
                           fmt::format("Release {} of {} has no start command.", request.version, request.app),
                           "Add a start script to the app (for Node, \"scripts\": {\"start\": ...} in package.json) "
                           "and deploy again."));
  }
  Step setup{"wait for host setup", wait_for_host_setup_script(),
             "Read /var/log/cloud-init-output.log on the host: the user data that installs the runtime failed.", false,
             request.host_setup_timeout};
  if (Status status = run_step_status(session, setup, request.on_step); !status) return status;
  return run_step_status(
      session,
      {"prepare the release folder", prepare_release_script(layout),
       "Check that the login user may create " + layout.app_folder() + ".", false, request.step_timeout},
      request.on_step);
}

}  // namespace

// clang-format off
std::string unpack_payload_script(const ReleaseLayout& layout, std::string_view artifact_path) {
  std::string quoted = shell_quote(artifact_path);
  return fmt::format(R"sh(set -eu
tar -xzf {0} -C {1} --no-same-owner --strip-components=1 {2}
rm -f {0}
)sh",
                     quoted, layout.release_folder(), kArtifactPayloadFolder);
}

std::string wait_for_host_setup_script() {
  return R"sh(if command -v cloud-init >/dev/null 2>&1; then
  if ! cloud-init status --wait >/dev/null; then
    echo "cloud-init reports that host setup failed: $(cloud-init status 2>&1)" >&2
    exit 1
  fi
fi
)sh";
}

std::string current_release_script(const ReleaseLayout& layout) {
  return fmt::format(R"sh(target=$(readlink {} 2>/dev/null || true)
echo "${{target##*/}}"
)sh",
                     layout.current_link());
}

std::string app_log_tail_script(const ReleaseLayout& layout, int lines) {
  return fmt::format("tail -n {} {} 2>/dev/null || true\n", lines, layout.log_file());
}
// clang-format on

Runtime runtime_from_name(std::string_view name) {
  if (name == "node") return Runtime::kNode;
  if (name == "python") return Runtime::kPython;
  return Runtime::kNone;
}

Result<ReleaseOutcome> install_release(Session& session, const ReleaseRequest& request) {
  Result<ReleaseLayout> layout = make_release_layout(request.app, request.version, request.base);
  if (!layout) return fail(layout.error());
  if (Status prepared = prepare(session, request, *layout); !prepared) return fail(prepared.error());

  Result<InitSystem> init = detect_init_system(session, request.on_step);
  if (!init) return fail(init.error());
  Result<std::string> previous = read_current_version(session, *layout, request.on_step);
  if (!previous) return fail(previous.error());
  ReleaseOutcome outcome{*layout, *init, *previous == request.version ? std::string() : *previous};

  // Steps up to the switch of `current` leave the running release alone.
  Status status = upload_and_unpack(session, request, *layout);
  if (status) {
    status = run_step_status(session,
                             {"install dependencies", install_dependencies_script(*layout, request.runtime),
                              "Check the dependency list in the artifact and that the runtime's package manager "
                              "can reach its registry from the host.",
                              false, request.step_timeout},
                             request.on_step);
  }
  if (status) status = write_environment(session, request, *layout);
  if (status) status = install_service(session, request, *layout, *init);
  if (status) {
    status = run_step_status(
        session,
        {"switch current to the release", switch_current_script(*layout),
         "Check that " + layout->release_folder() + " exists on the host.", false, std::chrono::seconds(60)},
        request.on_step);
  }
  if (!status) return fail(status.error());

  // From here a failure leaves the new release current: put the old one back.
  Status started = restart_and_wait(session, request, *layout, *init);
  if (!started) {
    std::string tail = app_log_tail(session, *layout);
    if (!outcome.previous_version.empty()) revert_to(session, request, outcome.previous_version, *init);
    Error error = started.error();
    if (!tail.empty()) error.message += "\nThe end of the app's log:\n" + tail;
    if (!outcome.previous_version.empty()) {
      error.message += fmt::format("\nRelease {} was started again in its place.", outcome.previous_version);
    }
    return fail(std::move(error));
  }

  Status pruned = run_step_status(
      session,
      {"remove old releases", prune_releases_script(*layout, request.keep_releases),
       "Remove old folders under " + layout->releases_folder() + " by hand.", false, std::chrono::seconds(120)},
      request.on_step);
  // A failed prune only costs disk space: the release runs.
  if (!pruned) log::get("deployer")->warn("{}", pruned.error().message);
  return outcome;
}

Status activate_release(Session& session, const ReleaseRequest& request) {
  Result<ReleaseLayout> layout = make_release_layout(request.app, request.version, request.base);
  if (!layout) return fail(layout.error());
  Result<InitSystem> init = detect_init_system(session, request.on_step);
  if (!init) return fail(init.error());
  log::get("deployer")->info("activating release {} of {} on {}", request.version, request.app, session.target());
  Status switched = run_step_status(
      session,
      {"switch current to release " + request.version, switch_current_script(*layout),
       "Check that " + layout->release_folder() + " still exists on the host.", false, std::chrono::seconds(60)},
      request.on_step);
  if (!switched) return switched;
  return restart_and_wait(session, request, *layout, *init);
}

Status stop_release(Session& session, const StopRequest& request) {
  Result<ReleaseLayout> layout = make_release_layout(request.app, "current", request.base);
  if (!layout) return fail(layout.error());
  Result<InitSystem> init = detect_init_system(session, {});
  if (!init) return fail(init.error());

  std::string script = stop_script(*layout, *init);
  bool as_root = *init == InitSystem::kSystemd && request.sudo_for_systemd;
  if (*init == InitSystem::kSystemd) {
    // systemctl stop fails for a unit that was never installed.
    script = fmt::format("if [ -f /etc/systemd/system/{0} ]; then\n{1}fi\n", layout->systemd_service(), script);
  }
  return run_step_status(
      session,
      {"stop the app", script, "Stop it by hand on the host, then run the command again.", as_root, request.timeout},
      {});
}

}  // namespace hivemind::remote
