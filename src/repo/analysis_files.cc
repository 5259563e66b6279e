#include <algorithm>
#include <array>
#include <fstream>
#include <system_error>

#include "common/log.h"
#include "common/strings.h"
#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 20> kSkippedFolders = {
    "node_modules", ".git",   "vendor",      "build",   "dist",          "target",     ".next",
    ".nuxt",        "out",    "__pycache__", "venv",    ".venv",         "env",        ".tox",
    ".mypy_cache",  ".cache", "coverage",    ".gradle", ".pytest_cache", ".svelte-kit"};

constexpr std::array<std::string_view, 14> kCodeExtensions = {".js", ".mjs", ".cjs", ".ts",   ".mts", ".jsx", ".tsx",
                                                              ".py", ".rb",  ".go",  ".java", ".kt",  ".php", ".rs"};

// Walks `folder` depth-first; `prefix` is its path relative to the root.
void walk(const fs::path& folder, const std::string& prefix, int depth, std::vector<std::string>& paths) {
  if (depth > RepoFiles::kMaxDepth) return;
  std::error_code error;
  fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
  if (error) {
    log::get("recon")->debug("cannot list {}: {}", folder.string(), error.message());
    return;
  }

  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) break;
    const fs::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    std::string relative = prefix.empty() ? name : prefix + "/" + name;

    std::error_code status_error;
    if (entry.is_symlink(status_error)) {
      // A link to a regular file is read like one; a link to a folder is not
      // followed, because it may point back up the tree.
      if (fs::is_regular_file(entry.path(), status_error)) paths.push_back(relative);
      continue;
    }
    if (entry.is_directory(status_error)) {
      if (!is_skipped_folder(name)) walk(entry.path(), relative, depth + 1, paths);
    } else if (entry.is_regular_file(status_error)) {
      paths.push_back(relative);
    }
  }
}

}  // namespace

bool is_skipped_folder(std::string_view name) {
  return std::find(kSkippedFolders.begin(), kSkippedFolders.end(), name) != kSkippedFolders.end();
}

RepoFiles RepoFiles::scan(const fs::path& root, size_t max_file_bytes) {
  RepoFiles files;
  files.root_ = root;
  files.max_file_bytes_ = max_file_bytes;
  walk(root, "", 0, files.paths_);
  std::sort(files.paths_.begin(), files.paths_.end());
  return files;
}

bool RepoFiles::has(std::string_view path) const { return std::binary_search(paths_.begin(), paths_.end(), path); }

const std::string* RepoFiles::read(std::string_view path) const {
  auto cached = cache_.find(path);
  if (cached != cache_.end()) return cached->second ? &*cached->second : nullptr;

  std::optional<std::string> content;
  if (has(path)) {
    fs::path file = root_ / fs::path(std::string(path));
    // Size the buffer from the file: a buffer of max_file_bytes_ for every
    // small file costs a page-faulting fill each and keeps that capacity.
    std::error_code size_error;
    std::uintmax_t size = fs::file_size(file, size_error);
    size_t to_read =
        size_error ? max_file_bytes_ : static_cast<size_t>(std::min<std::uintmax_t>(size, max_file_bytes_));
    std::ifstream stream(file, std::ios::binary);
    std::string buffer(to_read, '\0');
    stream.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.resize(static_cast<size_t>(std::max<std::streamsize>(stream.gcount(), 0)));
    if (buffer.find('\0') == std::string::npos) content = std::move(buffer);
  }
  auto [inserted, _] = cache_.emplace(std::string(path), std::move(content));
  return inserted->second ? &*inserted->second : nullptr;
}

std::string RepoFiles::first_existing(std::initializer_list<std::string_view> candidates) const {
  for (std::string_view candidate : candidates) {
    if (has(candidate)) return std::string(candidate);
  }
  return {};
}

int line_at(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

int line_of(std::string_view text, std::string_view needle, size_t from) {
  size_t found = text.find(needle, from);
  return found == std::string_view::npos ? 0 : line_at(text, found);
}

std::string line_text(std::string_view text, int line) {
  size_t start = 0;
  for (int current = 1; current < line && start != std::string_view::npos; ++current) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos || start > text.size()) return {};
  size_t end = text.find('\n', start);
  std::string_view content = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  std::string trimmed;
  size_t first = content.find_first_not_of(" \t\r");
  size_t last = content.find_last_not_of(" \t\r");
  if (first != std::string_view::npos) trimmed = std::string(content.substr(first, last - first + 1));
  if (trimmed.size() > 120) trimmed = trimmed.substr(0, 117) + "...";
  return trimmed;
}

Evidence evidence_at(std::string file, std::string_view text, size_t offset) {
  int line = line_at(text, offset);
  return Evidence{std::move(file), line, line_text(text, line)};
}

Evidence evidence_of(std::string file, std::string_view text, std::string_view needle) {
  int line = line_of(text, needle);
  if (line == 0) return Evidence{std::move(file), 0, {}};
  return Evidence{std::move(file), line, line_text(text, line)};
}

Evidence whole_file(std::string file, std::string detail) { return Evidence{std::move(file), 0, std::move(detail)}; }

std::string_view file_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view extension(std::string_view path) {
  std::string_view name = file_name(path);
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? std::string_view{} : name.substr(dot);
}

bool is_code_file(std::string_view path) {
  std::string_view ext = extension(path);
  // Scripts without an extension in bin/, such as express-generator's bin/www.
  if (ext.empty()) return starts_with(path, "bin/") && path.find('/', 4) == std::string_view::npos;
  if (file_name(path).find(".min.") != std::string_view::npos) return false;
  return std::find(kCodeExtensions.begin(), kCodeExtensions.end(), ext) != kCodeExtensions.end();
}

}  // namespace hivemind::repo::detail
