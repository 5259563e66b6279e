#pragma once

// The per-deployment folder <state_dir>/<id>/ and its subfolders, beside the
// shared database <state_dir>/state.db.

#include <filesystem>
#include <string_view>

#include "common/result.h"

namespace hivemind::state {

struct DeploymentPaths {
  std::filesystem::path root;       // <state_dir>/<id>
  std::filesystem::path logs;       // <root>/logs: the log file of each command
  std::filesystem::path keys;       // <root>/keys: SSH private keys, mode 0700
  std::filesystem::path report;     // <root>/report: the generated report
  std::filesystem::path lock_file;  // <root>/deployment.lock, see lock.h
};

// Returns the paths without touching the disk.
// REQUIRES: is_valid_deployment_id(deployment_id), so the id cannot escape state_dir.
DeploymentPaths deployment_paths(const std::filesystem::path& state_dir, std::string_view deployment_id);

// Creates the folders that are missing (keys with mode 0700) and returns their
// paths. Errors: state.invalid_id for an id that make_deployment_id() cannot
// produce, state.dir_create_failed when a folder cannot be made.
Result<DeploymentPaths> ensure_deployment_dirs(const std::filesystem::path& state_dir, std::string_view deployment_id);

}  // namespace hivemind::state
