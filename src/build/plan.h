#pragma once

// The commands that build an application, chosen from its analysis and its
// lockfile. Built by a pure function so that the exact commands can be
// tested as strings; the compiler runs them.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "repo/analysis.h"

namespace hivemind::build {

struct BuildStep {
  std::string purpose;            // "install dependencies", "build", "remove development dependencies"
  std::string command;            // as shown to the user and in the reproduce hint
  std::vector<std::string> argv;  // what runs: the tool's arguments, or /bin/sh -c for project commands
  std::string tool;               // the program that must be on PATH
  std::string reason;             // why this command: the lockfile or setting that chose it
};

// Returns the install, build and prune steps for the application in
// `app_root`. Lockfiles pin the install command: package-lock.json gives
// `npm ci`, yarn.lock `yarn install --frozen-lockfile`, pnpm-lock.yaml
// `pnpm install --frozen-lockfile`, poetry.lock `poetry install`, and so on.
// An install command set in hivemind.toml replaces the chosen one.
std::vector<BuildStep> plan_build(const repo::Analysis& analysis, const std::filesystem::path& app_root);

// Returns the remediation for a tool that is missing on this machine.
std::string install_hint(const std::string& tool);

}  // namespace hivemind::build
