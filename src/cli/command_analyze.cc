// `hivemind analyze <repo>`: prints what Randy Recon finds in a repository,
// each finding with the file and line that shows it.

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/ui.h"
#include "repo/analysis.h"
#include "repo/source.h"

namespace hivemind::cli {
namespace {

struct AnalyzeArguments {
  std::string location;
  std::string ref;
  std::string app_dir;
};

constexpr int kLabelWidth = 17;

std::string format_evidence(const repo::Evidence& evidence) {
  if (evidence.file.empty()) return evidence.detail;
  std::string place = evidence.line > 0 ? fmt::format("{}:{}", evidence.file, evidence.line) : evidence.file;
  return evidence.detail.empty() ? place : place + "  " + evidence.detail;
}

std::string origin_tag(const Ui& ui, repo::Origin origin) {
  if (origin == repo::Origin::kDetected) return "";
  return " " + ui.paint(fmt::format("[{}]", repo::origin_name(origin)), Color::kYellow);
}

void print_row(Ui& ui, std::string_view label, const std::string& value, repo::Origin origin,
               const repo::Evidence& evidence) {
  std::string line =
      fmt::format("  {:<{}}{}{}", label, kLabelWidth, ui.paint(value, Color::kBold), origin_tag(ui, origin));
  std::string shown = format_evidence(evidence);
  if (!shown.empty()) line += "   " + ui.paint(shown, Color::kGray);
  ui.info(line);
}

void print_optional(Ui& ui, std::string_view label, const std::optional<repo::Finding<std::string>>& finding) {
  if (!finding) {
    ui.info(fmt::format("  {:<{}}{}", label, kLabelWidth, ui.paint("none found", Color::kGray)));
    return;
  }
  print_row(ui, label, finding->value, finding->origin, finding->evidence);
}

void print_apps(Ui& ui, const repo::Analysis& analysis) {
  ui.info(fmt::format("{} contains no app at its root, but these apps in subfolders:", analysis.root.string()));
  for (const repo::AppLocation& app : analysis.apps) {
    ui.info(fmt::format("  {:<28}{:<10}{}", app.dir, app.language, ui.paint(app.manifest, Color::kGray)));
  }
  ui.info(fmt::format("Pick one with: hivemind analyze {} --app-dir {}", analysis.root.string(),
                      analysis.apps.front().dir));
}

void print_lists(Ui& ui, const repo::Analysis& analysis) {
  bool first = true;
  for (const repo::BackingService& service : analysis.services) {
    const repo::Evidence& evidence = service.evidence.empty() ? repo::Evidence{} : service.evidence.front();
    print_row(ui, first ? "Services" : "", repo::service_name(service.kind), service.origin, evidence);
    first = false;
  }
  if (analysis.services.empty())
    ui.info(fmt::format("  {:<{}}{}", "Services", kLabelWidth, ui.paint("none", Color::kGray)));

  first = true;
  for (const repo::EnvVar& variable : analysis.env_vars) {
    std::string value = variable.name + (variable.required ? " (required)" : " (optional)");
    if (!variable.default_value.empty()) value += " default " + variable.default_value;
    const repo::Evidence& evidence = variable.evidence.empty() ? repo::Evidence{} : variable.evidence.front();
    print_row(ui, first ? "Variables" : "", value, variable.origin, evidence);
    first = false;
  }
  if (analysis.env_vars.empty())
    ui.info(fmt::format("  {:<{}}{}", "Variables", kLabelWidth, ui.paint("none", Color::kGray)));

  first = true;
  for (const repo::DeploymentHint& hint : analysis.hints) {
    print_row(ui, first ? "Hints" : "", hint.kind + " " + hint.value, repo::Origin::kDetected, hint.evidence);
    first = false;
  }
}

void print_analysis(Ui& ui, const repo::Analysis& analysis, const repo::SourceTree& source) {
  std::string title = "Analysis of " + (analysis.root / analysis.app_dir).lexically_normal().string();
  if (!source.commit.empty())
    title += fmt::format(" at {}{}", source.commit.substr(0, 12), source.dirty ? " (with uncommitted changes)" : "");
  ui.success(title);

  print_row(ui, "Language", analysis.language.value, analysis.language.origin, analysis.language.evidence);
  print_optional(ui, "Runtime version", analysis.runtime_version);
  print_optional(ui, "Framework", analysis.framework);
  print_optional(ui, "Package manager", analysis.package_manager);
  print_optional(ui, "Lockfile", analysis.lockfile);
  print_optional(ui, "Dockerfile", analysis.dockerfile);
  print_optional(ui, "Install", analysis.install_command);
  print_optional(ui, "Build", analysis.build_command);
  print_optional(ui, "Start", analysis.start_command);

  for (size_t i = 0; i < analysis.ports.size(); ++i) {
    const repo::Finding<int>& port = analysis.ports[i];
    std::string value = std::to_string(port.value) + (i == 0 ? " (primary)" : "");
    print_row(ui, i == 0 ? "Ports" : "", value, port.origin, port.evidence);
  }
  if (analysis.ports.empty()) ui.info(fmt::format("  {:<{}}{}", "Ports", kLabelWidth, ui.paint("none", Color::kGray)));
  const repo::Finding<bool>& web = analysis.web_service;
  print_row(ui, "Web service", web.value ? "yes" : "no (worker or command-line app)", web.origin, web.evidence);
  if (!analysis.health_check_path.value.empty()) {
    print_row(ui, "Health check", analysis.health_check_path.value, analysis.health_check_path.origin,
              analysis.health_check_path.evidence);
  }
  print_lists(ui, analysis);
}

int report_failure(Ui& ui, const Error& error, bool json) {
  ui.error(error.describe());
  if (json) print_json_failure(error);
  return kExitFailure;
}

int run_analyze(const GlobalOptions& global, const AnalyzeArguments& arguments) {
  Ui ui(!global.no_color, global.json);

  repo::SourceOptions source_options{arguments.ref, global.state_dir};
  Result<repo::SourceTree> source = repo::open_source(arguments.location, source_options);
  if (!source) return report_failure(ui, source.error(), global.json);

  repo::AnalyzeOptions options;
  options.app_dir = arguments.app_dir;
  Result<repo::Analysis> analysis = repo::analyze(source->root, options);
  if (!analysis) return report_failure(ui, analysis.error(), global.json);

  if (global.json) {
    std::cout << repo::analysis_to_json(*analysis);
  } else if (analysis->needs_app_choice()) {
    print_apps(ui, *analysis);
  } else {
    print_analysis(ui, *analysis, *source);
  }
  return kExitSuccess;
}

}  // namespace

void add_analyze_command(CLI::App& app, CommandContext& context) {
  auto arguments = std::make_shared<AnalyzeArguments>();
  CLI::App* command = app.add_subcommand("analyze", "Analyze a repository: stack, ports, databases, variables");
  command->add_option("repo", arguments->location, "Folder, Git working copy or Git URL of the application")
      ->required();
  command->add_option("--ref", arguments->ref, "Branch, tag or commit to analyze (default: the current HEAD)");
  command->add_option("--app-dir", arguments->app_dir, "App folder inside the repository, for a monorepo");
  command->callback([&context, arguments] {
    context.action = [&context, arguments] { return run_analyze(context.global, *arguments); };
  });
}

}  // namespace hivemind::cli
