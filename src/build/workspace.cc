#include "build/workspace.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <set>
#include <system_error>

#include "common/digest.h"
#include "common/log.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

// Folders left out at any depth: version control, installed dependencies,
// caches and framework build outputs that the build makes again.
const std::set<std::string> kExcludedAnywhere = {
    ".git",  ".hg",         ".svn",   "node_modules", "__pycache__",   ".venv",       "venv",    ".next",
    ".nuxt", ".svelte-kit", ".turbo", ".cache",       ".pytest_cache", ".mypy_cache", ".gradle", ".terraform"};

// Folders left out only at the application's root, where they are usually
// build outputs; deeper down the same names are often source folders.
const std::set<std::string> kExcludedAtRoot = {"dist", "build", "out", "target", "coverage"};

// Dependency folders that an artifact's payload keeps: they are what the
// build installed.
const std::set<std::string> kDependencyFolders = {"node_modules", ".venv", "venv"};

bool is_excluded(const fs::path& relative, const TreeOptions& options) {
  std::string name = relative.filename().string();
  if (!options.skip_dependency_folders) {
    if (kDependencyFolders.count(name) > 0) return false;
    return name == ".git" || name == ".hg" || name == ".svn";
  }
  if (kExcludedAnywhere.count(name) > 0) return true;
  return relative.parent_path().empty() && kExcludedAtRoot.count(name) > 0;
}

bool path_is_within(const fs::path& path, const fs::path& folder) {
  auto mismatch = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
  return mismatch.first == folder.end();
}

bool looks_binary(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::array<char, 8192> buffer{};
  file.read(buffer.data(), buffer.size());
  return std::find(buffer.begin(), buffer.begin() + file.gcount(), '\0') != buffer.begin() + file.gcount();
}

Error symlink_error(const fs::path& relative, const std::string& target, const std::string& problem) {
  return make_error("build.bad_symlink", "Symlink " + relative.generic_string() + " -> " + target + " " + problem + ".",
                    "Replace the link with the file it points to, or remove it from the repository.");
}

// Checks that a symlink stays inside the tree and does not point at one of
// its own parent folders, which makes every tool that follows links loop.
Status check_symlink(const fs::path& root, const fs::path& relative, const std::string& target) {
  if (fs::path(target).is_absolute()) return fail(symlink_error(relative, target, "is absolute"));

  fs::path lexical = (root / relative.parent_path() / target).lexically_normal();
  if (!path_is_within(lexical, root)) return fail(symlink_error(relative, target, "points outside the repository"));

  std::error_code error;
  fs::path resolved = fs::canonical(root / relative, error);
  if (error == std::errc::too_many_symbolic_link_levels) {
    return fail(symlink_error(relative, target, "is part of a symlink loop"));
  }
  if (error) return ok_unit();  // dangling inside the tree: copied as it is

  if (!path_is_within(resolved, root)) {
    return fail(symlink_error(relative, target, "resolves outside the repository"));
  }
  fs::path link_folder = fs::canonical(root / relative.parent_path(), error);
  if (!error && fs::is_directory(resolved) && path_is_within(link_folder, resolved)) {
    return fail(symlink_error(relative, target, "points to its own parent folder, a symlink loop"));
  }
  return ok_unit();
}

struct Walker {
  fs::path root;
  const TreeOptions& options;
  const std::function<Status(const TreeEntry&)>& visit;
  TreeReport report;

  Status visit_file(const fs::path& relative, const fs::file_status& status) {
    fs::path absolute = root / relative;
    std::error_code error;
    std::uintmax_t size = fs::file_size(absolute, error);
    if (error)
      return fail(make_error("build.read_failed", "Cannot read " + absolute.string() + ": " + error.message()));
    if (size > options.max_file_bytes) {
      report.skipped.push_back(relative.generic_string() + ": " + std::to_string(size / (1024 * 1024)) +
                               " MiB, over the limit of " + std::to_string(options.max_file_bytes / (1024 * 1024)) +
                               " MiB");
      return ok_unit();
    }
    if (looks_binary(absolute)) ++report.binary_files;
    ++report.files;
    report.bytes += size;

    bool executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
    return visit(TreeEntry{relative, EntryKind::kFile, size, executable, ""});
  }

  Status visit_folder(const fs::path& relative) {
    std::error_code error;
    std::vector<fs::path> names;
    for (fs::directory_iterator it(root / relative, error), end; !error && it != end; it.increment(error)) {
      names.push_back(it->path().filename());
    }
    if (error) {
      return fail(make_error("build.read_failed",
                             "Cannot list folder " + (root / relative).string() + ": " + error.message() + "."));
    }
    std::sort(names.begin(), names.end());

    for (const fs::path& name : names) {
      Status status = visit_entry(relative / name);
      if (!status) return status;
    }
    return ok_unit();
  }

  Status visit_entry(const fs::path& relative) {
    std::error_code error;
    fs::file_status status = fs::symlink_status(root / relative, error);
    if (error) return fail(make_error("build.read_failed", "Cannot read " + (root / relative).string() + "."));

    if (fs::is_symlink(status)) {
      std::string target = fs::read_symlink(root / relative, error).string();
      Status checked = check_symlink(root, relative, target);
      if (!checked) return checked;
      return visit(TreeEntry{relative, EntryKind::kSymlink, 0, false, target});
    }
    if (fs::is_directory(status)) {
      if (is_excluded(relative, options)) return ok_unit();
      Status visited = visit(TreeEntry{relative, EntryKind::kFolder, 0, false, ""});
      if (!visited) return visited;
      return visit_folder(relative);
    }
    if (fs::is_regular_file(status)) return visit_file(relative, status);

    report.skipped.push_back(relative.generic_string() + ": not a regular file (socket, pipe or device)");
    return ok_unit();
  }
};

}  // namespace

Result<TreeReport> walk_tree(const fs::path& root, const TreeOptions& options,
                             const std::function<Status(const TreeEntry&)>& visit) {
  std::error_code error;
  fs::path canonical_root = fs::canonical(root, error);
  if (error || !fs::is_directory(canonical_root)) {
    return fail(make_error("build.no_source", "Folder " + root.string() + " does not exist."));
  }
  Walker walker{canonical_root, options, visit, {}};
  Status status = walker.visit_folder("");
  if (!status) return fail(status.error());
  for (const std::string& skipped : walker.report.skipped) log::get("build")->warn("skipped {}", skipped);
  return std::move(walker.report);
}

Result<std::string> hash_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(make_error("build.read_failed", "Cannot open " + path.string() + "."));
  Sha256 hash;
  std::array<char, 64 * 1024> buffer{};
  while (file.read(buffer.data(), buffer.size()) || file.gcount() > 0) {
    hash.update(std::string_view(buffer.data(), static_cast<size_t>(file.gcount())));
  }
  return hash.finish_hex();
}

Result<std::string> hash_tree(const fs::path& root, const TreeOptions& options) {
  Sha256 hash;
  fs::path canonical_root = fs::weakly_canonical(root);
  Result<TreeReport> report = walk_tree(root, options, [&](const TreeEntry& entry) -> Status {
    std::string path = entry.relative.generic_string();
    switch (entry.kind) {
      case EntryKind::kFolder:
        hash.update("D " + path + "\n");
        break;
      case EntryKind::kSymlink:
        hash.update("L " + path + " -> " + entry.link_target + "\n");
        break;
      case EntryKind::kFile: {
        Result<std::string> content = hash_file(canonical_root / entry.relative);
        if (!content) return fail(content.error());
        hash.update(std::string("F ") + (entry.executable ? "x " : "- ") + *content + " " + path + "\n");
        break;
      }
    }
    return ok_unit();
  });
  if (!report) return fail(report.error());
  return hash.finish_hex();
}

Result<TreeReport> copy_tree(const fs::path& root, const fs::path& destination, const TreeOptions& options) {
  std::error_code error;
  if (fs::exists(destination)) {
    return fail(
        make_error("build.destination_exists", "Copy destination " + destination.string() + " already exists."));
  }
  fs::create_directories(destination, error);
  if (error) {
    return fail(
        make_error("build.write_failed", "Cannot create " + destination.string() + ": " + error.message() + "."));
  }

  fs::path canonical_root = fs::weakly_canonical(root);
  return walk_tree(root, options, [&](const TreeEntry& entry) -> Status {
    fs::path target = destination / entry.relative;
    std::error_code copy_error;
    switch (entry.kind) {
      case EntryKind::kFolder:
        fs::create_directory(target, copy_error);
        break;
      case EntryKind::kSymlink:
        fs::create_symlink(entry.link_target, target, copy_error);
        break;
      case EntryKind::kFile:
        fs::copy_file(canonical_root / entry.relative, target, copy_error);
        break;
    }
    if (copy_error) {
      return fail(make_error("build.write_failed", "Cannot copy " + entry.relative.generic_string() + " to " +
                                                       target.string() + ": " + copy_error.message() + "."));
    }
    return ok_unit();
  });
}

}  // namespace hivemind::build
