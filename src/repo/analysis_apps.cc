// Listing of the applications of a monorepo: first- and second-level folders
// with their own manifest.

#include <algorithm>
#include <system_error>

#include "repo/analysis_internal.h"

namespace hivemind::repo::detail {
namespace fs = std::filesystem;

namespace {

// Folders whose children are conventionally apps of a monorepo. A static site
// (a bare index.html) counts only there, because documentation and asset
// folders elsewhere often have an index.html too.
constexpr const char* kAppParents[] = {"apps", "packages", "services", "sites"};

std::vector<std::string> sorted_subfolders(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code status_error;
    if (it->is_symlink(status_error) || !it->is_directory(status_error)) continue;
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || is_skipped_folder(name)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Returns the app in `folder` judged from its direct files only.
std::optional<AppLocation> app_in(const fs::path& root, const std::string& relative, bool static_allowed) {
  fs::path folder = root / relative;
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code status_error;
    if (it->is_regular_file(status_error)) names.push_back(it->path().filename().string());
  }
  if (fs::is_regular_file(folder / "public" / "index.html", error)) names.push_back("public/index.html");

  std::sort(names.begin(), names.end());
  std::optional<AppLocation> found = detect_language_from_paths(names);
  if (!found) return std::nullopt;
  if (found->language == "static" && !static_allowed) return std::nullopt;
  found->dir = relative;
  found->manifest = relative + "/" + found->manifest;
  return found;
}

}  // namespace

std::vector<AppLocation> find_apps(const fs::path& root) {
  std::vector<AppLocation> apps;
  for (const std::string& first : sorted_subfolders(root)) {
    bool is_parent =
        std::any_of(std::begin(kAppParents), std::end(kAppParents), [&](const char* p) { return first == p; });
    if (auto app = app_in(root, first, false)) {
      apps.push_back(*app);
      continue;
    }
    for (const std::string& second : sorted_subfolders(root / first)) {
      if (auto app = app_in(root, first + "/" + second, is_parent)) apps.push_back(*app);
    }
  }
  return apps;
}

}  // namespace hivemind::repo::detail
