#pragma once

// Where a repository's files come from: a local folder, a local Git
// repository, or a Git URL cloned into the state folder's repository cache.

#include <filesystem>
#include <string>

#include "common/result.h"

namespace hivemind::repo {

struct SourceOptions {
  std::string ref;                  // branch, tag or commit; empty: the current HEAD
  std::filesystem::path state_dir;  // the cache lives in <state_dir>/repos
};

struct SourceTree {
  std::string location;        // what the user passed
  std::filesystem::path root;  // local folder with the files to analyze and build
  std::string commit;          // full commit hash when the source is a Git repository, else empty
  bool dirty = false;          // uncommitted changes in a local working copy
};

// Opens `location` (a folder path, a Git working copy, or an https, ssh or
// file:// URL) and returns a local folder with its files at `options.ref`.
Result<SourceTree> open_source(const std::string& location, const SourceOptions& options);

}  // namespace hivemind::repo
