#include <fmt/format.h>

#include "state/store_internal.h"

namespace hivemind::state::internal {

std::string tag_hint(std::string_view deployment_id) {
  const std::string id = deployment_id.empty() ? std::string("<id>") : std::string(deployment_id);
  return fmt::format(
      "AWS resources that HiveMind created stay tagged {}={}; `hivemind destroy {}` finds them by tag even "
      "without this state.",
      kDeploymentTagKey, id, id);
}

Error storage_error(std::string_view operation, const std::filesystem::path& database, std::string_view deployment_id,
                    const sqlite::Failure& failure) {
  const std::string folder = database.parent_path().string();
  const std::string cause = fmt::format("SQLite error {}: {}", failure.code, failure.message);
  const std::string hint = tag_hint(deployment_id);

  switch (failure.primary_code()) {
    case SQLITE_FULL:
      return make_error("state.disk_full",
                        fmt::format("Saving state ({}) failed because the disk holding {} is full ({}).", operation,
                                    database.string(), cause),
                        fmt::format("This change was not saved and earlier changes are intact. Free space on the "
                                    "file system of {}, then run the command again. {}",
                                    folder, hint));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return make_error("state.read_only",
                        fmt::format("Saving state ({}) failed because {} cannot be written ({}).", operation,
                                    database.string(), cause),
                        fmt::format("Nothing was changed. Make {} and its files writable for this user, or pass "
                                    "--state-dir with a writable folder. {}",
                                    folder, hint));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return make_error("state.corrupt",
                        fmt::format("The state database {} is damaged or is not a SQLite database ({}), found during "
                                    "{}.",
                                    database.string(), cause, operation),
                        fmt::format("HiveMind did not modify it. Move it aside for inspection (mv {0} {0}.broken) "
                                    "and run the command again to start a new state. {1}",
                                    database.string(), hint));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error("state.busy",
                        fmt::format("The state database {} stayed locked by another process during {} ({}).",
                                    database.string(), operation, cause),
                        "Wait for the other hivemind command to finish, then run this one again.");
    case SQLITE_IOERR:
      return make_error("state.io_error",
                        fmt::format("Reading or writing {} failed with an I/O error during {} ({}).", database.string(),
                                    operation, cause),
                        fmt::format("This change was not saved. Check the disk and the kernel log (dmesg), then run "
                                    "the command again. {}",
                                    hint));
    default:
      return make_error(
          "state.sqlite_error",
          fmt::format("Saving or reading state in {} failed during {} ({}).", database.string(), operation, cause),
          fmt::format("Run the command again; if it fails the same way, keep {} for a bug report. {}",
                      database.string(), hint));
  }
}

}  // namespace hivemind::state::internal
