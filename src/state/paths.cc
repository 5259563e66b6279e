#include "state/paths.h"

#include <fmt/format.h>

#include <cassert>
#include <system_error>

#include "state/model.h"

namespace hivemind::state {
namespace {

Status make_dir(const std::filesystem::path& dir, std::filesystem::perms permissions) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec) std::filesystem::permissions(dir, permissions, std::filesystem::perm_options::replace, ec);
  if (ec) {
    return fail(make_error("state.dir_create_failed",
                           fmt::format("Creating the deployment folder {} failed: {}.", dir.string(), ec.message()),
                           "Make the state folder writable for this user, or pass --state-dir with a writable "
                           "folder."));
  }
  return ok_unit();
}

}  // namespace

DeploymentPaths deployment_paths(const std::filesystem::path& state_dir, std::string_view deployment_id) {
  assert(is_valid_deployment_id(deployment_id));
  const std::filesystem::path root = state_dir / std::string(deployment_id);
  return DeploymentPaths{root, root / "logs", root / "keys", root / "report", root / "deployment.lock"};
}

Result<DeploymentPaths> ensure_deployment_dirs(const std::filesystem::path& state_dir, std::string_view deployment_id) {
  if (!is_valid_deployment_id(deployment_id)) {
    return fail(make_error(
        "state.invalid_id",
        fmt::format("'{}' is not a HiveMind deployment id (expected hm-<app>-<6 characters>).", deployment_id),
        "Run `hivemind status` to list the deployment ids."));
  }

  using std::filesystem::perms;
  const DeploymentPaths paths = deployment_paths(state_dir, deployment_id);
  const perms shared =
      perms::owner_all | perms::group_read | perms::group_exec | perms::others_read | perms::others_exec;
  for (const auto& dir : {paths.root, paths.logs, paths.report}) {
    if (auto made = make_dir(dir, shared); !made.ok()) return fail(made.error());
  }
  if (auto made = make_dir(paths.keys, perms::owner_all); !made.ok()) return fail(made.error());
  return paths;
}

}  // namespace hivemind::state
