#pragma once

// The files of an application as the compiler sees them: a walk of the
// source tree that leaves out version control, dependency and build-output
// folders, rejects symlinks that leave the tree or loop, and skips files
// that cannot belong in an artifact. The same walk gives the content hash
// that keys the build cache and the clean copy that a build runs in.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::build {

struct TreeOptions {
  std::uintmax_t max_file_bytes = 100ull * 1024 * 1024;  // larger files are skipped and listed
  bool skip_dependency_folders = true;  // false keeps node_modules and the like (an artifact's payload)
};

enum class EntryKind { kFolder, kFile, kSymlink };

struct TreeEntry {
  std::filesystem::path relative;  // to the tree's root
  EntryKind kind = EntryKind::kFile;
  std::uintmax_t size = 0;
  bool executable = false;
  std::string link_target;  // kSymlink only, as stored in the link
};

// What a walk found besides the entries it visited.
struct TreeReport {
  std::size_t files = 0;
  std::uintmax_t bytes = 0;
  std::size_t binary_files = 0;      // files with a NUL byte in their first 8 KiB (images, fonts...)
  std::vector<std::string> skipped;  // "<path>: <reason>" for each file left out
};

// Visits every entry under `root` in a stable order (folders before their
// contents, names in byte order). Errors: a symlink that points outside the
// tree or is absolute, a symlink loop, an unreadable folder.
Result<TreeReport> walk_tree(const std::filesystem::path& root, const TreeOptions& options,
                             const std::function<Status(const TreeEntry&)>& visit);

// Returns the SHA-256 of the tree's paths, modes, link targets and contents.
Result<std::string> hash_tree(const std::filesystem::path& root, const TreeOptions& options);

// Copies the tree into `destination`, which must not exist yet.
Result<TreeReport> copy_tree(const std::filesystem::path& root, const std::filesystem::path& destination,
                             const TreeOptions& options);

// Returns the SHA-256 of a file's contents in hex.
Result<std::string> hash_file(const std::filesystem::path& path);

}  // namespace hivemind::build
