// `hivemind build <repo>`: opens the source, analyzes it and builds a
// versioned artifact into <state_dir>/artifacts, or reuses the cached one.

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "build/compiler.h"
#include "cli/commands.h"
#include "cli/ui.h"
#include "common/log.h"
#include "repo/analysis.h"
#include "repo/source.h"

namespace hivemind::cli {
namespace {

struct BuildArguments {
  std::string location;
  std::string ref;
  std::string app_dir;
  std::string app_name;
  int step_timeout_seconds = 1800;
};

void show_event(Ui& ui, const build::BuildEvent& event) {
  switch (event.kind) {
    case build::BuildEvent::Kind::kStepStarted:
      ui.start_spinner(event.message);
      break;
    case build::BuildEvent::Kind::kStepFinished:
    case build::BuildEvent::Kind::kCopied:
    case build::BuildEvent::Kind::kArtifactWritten:
      ui.success(event.message);
      break;
    case build::BuildEvent::Kind::kCacheHit:
      ui.success("Cache hit: " + event.message);
      break;
  }
}

void print_summary(Ui& ui, const build::BuildResult& result) {
  for (const std::string& skipped : result.tree.skipped) ui.warning("Left out of the build: " + skipped);
  if (!result.cache_hit) {
    for (const build::StepRecord& step : result.steps) {
      ui.info(fmt::format("  {:<50} exit {}  {}", step.command, step.exit_code, format_duration(step.duration)));
    }
    ui.info(fmt::format("  {} files copied, {} of them binary", result.tree.files, result.tree.binary_files));
  }
  const build::Manifest& manifest = result.manifest;
  ui.success(fmt::format("Artifact {} {}{}", manifest.app, manifest.version, result.cache_hit ? " (cached)" : ""));
  ui.info("  File      " + result.artifact.string());
  ui.info("  Checksum  " + manifest.payload_checksum);
  ui.info("  Runtime   " + manifest.runtime + (manifest.runtime_version.empty() ? "" : " " + manifest.runtime_version));
  ui.info("  Start     " + (manifest.start_command.empty() ? std::string("(none found)") : manifest.start_command));
  ui.info("  Port      " + (manifest.port == 0 ? std::string("none (worker)") : std::to_string(manifest.port)));
  if (!result.cache_hit) ui.info("  Build log " + result.log_file.string());
}

void print_json(const build::BuildResult& result) {
  nlohmann::json json = nlohmann::json::parse(build::manifest_to_json(result.manifest));
  nlohmann::json output = {{"artifact", result.artifact.string()},
                           {"cache_hit", result.cache_hit},
                           {"log_file", result.log_file.string()},
                           {"manifest", json}};
  std::cout << output.dump(2) << "\n";
}

int run_build(const GlobalOptions& global, const BuildArguments& arguments) {
  Ui ui(!global.no_color, global.json);
  if (global.verbose) log::configure_stderr(spdlog::level::debug);

  Result<repo::SourceTree> source = repo::open_source(arguments.location, {arguments.ref, global.state_dir});
  if (!source) {
    ui.error(source.error().describe());
    if (global.json) print_json_failure(source.error());
    return kExitFailure;
  }
  repo::AnalyzeOptions analyze_options;
  analyze_options.app_dir = arguments.app_dir;
  Result<repo::Analysis> analysis = repo::analyze(source->root, analyze_options);
  if (!analysis) {
    ui.error(analysis.error().describe());
    if (global.json) print_json_failure(analysis.error());
    return kExitFailure;
  }

  build::BuildRequest request;
  request.source = *source;
  request.analysis = *analysis;
  request.state_dir = global.state_dir;
  request.app_name = arguments.app_name;
  request.step_timeout = std::chrono::seconds(arguments.step_timeout_seconds);
  if (!global.json) request.on_event = [&ui](const build::BuildEvent& event) { show_event(ui, event); };

  Result<build::BuildResult> result = build::build_app(request);
  ui.stop_spinner();
  if (!result) {
    ui.error(result.error().message);
    if (!result.error().remediation.empty()) std::cerr << result.error().remediation << "\n";
    if (global.json) print_json_failure(result.error());
    return kExitFailure;
  }
  if (global.json) {
    print_json(*result);
  } else {
    print_summary(ui, *result);
  }
  return kExitSuccess;
}

}  // namespace

void add_build_command(CLI::App& app, CommandContext& context) {
  auto arguments = std::make_shared<BuildArguments>();
  CLI::App* command = app.add_subcommand("build", "Build a repository into a versioned artifact (.tar.gz)");
  command->add_option("repo", arguments->location, "Folder, Git working copy or Git URL of the application")
      ->required();
  command->add_option("--ref", arguments->ref, "Branch, tag or commit to build (default: the current HEAD)");
  command->add_option("--app-dir", arguments->app_dir, "App folder inside the repository, for a monorepo");
  command->add_option("--app-name", arguments->app_name,
                      "Name in the artifact's file name (default: the repository's)");
  command->add_option("--step-timeout", arguments->step_timeout_seconds, "Seconds each build command may run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->callback([&context, arguments] {
    context.action = [&context, arguments] { return run_build(context.global, *arguments); };
  });
}

}  // namespace hivemind::cli
