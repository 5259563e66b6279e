#include "build/artifact.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "build/workspace.h"
#include "common/digest.h"
#include "common/log.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// The checksum of a payload: SHA-256 over one sorted line per entry, so the
// order of entries in the tar file does not matter.
class PayloadDigest {
 public:
  void add_folder(const std::string& path) { lines_.push_back("D " + path); }
  void add_file(const std::string& path, bool executable, const std::string& content_sha) {
    lines_.push_back(std::string("F ") + (executable ? "x " : "- ") + content_sha + " " + path);
  }
  void add_symlink(const std::string& path, const std::string& target) {
    lines_.push_back("L " + path + " -> " + target);
  }
  std::string finish() {
    std::sort(lines_.begin(), lines_.end());
    Sha256 hash;
    for (const std::string& line : lines_) hash.update(line + "\n");
    return "sha256:" + hash.finish_hex();
  }

 private:
  std::vector<std::string> lines_;
};

struct ArchiveWriterDeleter {
  void operator()(archive* handle) const { archive_write_free(handle); }
};
struct ArchiveReaderDeleter {
  void operator()(archive* handle) const { archive_read_free(handle); }
};
struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriterDeleter>;
using ArchiveReader = std::unique_ptr<archive, ArchiveReaderDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

Error archive_error(const std::string& code, const fs::path& path, archive* handle) {
  const char* detail = archive_error_string(handle);
  return make_error(code, "Artifact " + path.string() + ": " + (detail != nullptr ? detail : "libarchive error") + ".");
}

// ---- Writing -------------------------------------------------------------------

Status write_entry_header(archive* handle, const std::string& path, mode_t type, mode_t permissions, int64_t size,
                          const std::string& link_target, const fs::path& archive_path) {
  EntryPtr entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), permissions);
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_mtime(entry.get(), time(nullptr), 0);
  if (!link_target.empty()) archive_entry_set_symlink(entry.get(), link_target.c_str());
  if (archive_write_header(handle, entry.get()) != ARCHIVE_OK) {
    return fail(archive_error("artifact.write_failed", archive_path, handle));
  }
  return ok_unit();
}

Status write_file_data(archive* handle, const fs::path& source, const fs::path& archive_path) {
  std::ifstream file(source, std::ios::binary);
  std::vector<char> buffer(64 * 1024);
  while (file.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || file.gcount() > 0) {
    if (archive_write_data(handle, buffer.data(), static_cast<size_t>(file.gcount())) < 0) {
      return fail(archive_error("artifact.write_failed", archive_path, handle));
    }
  }
  return ok_unit();
}

Status write_payload_entry(archive* handle, const fs::path& payload_dir, const TreeEntry& entry,
                           const fs::path& archive_path) {
  std::string path = std::string(kPayloadFolder) + "/" + entry.relative.generic_string();
  switch (entry.kind) {
    case EntryKind::kFolder:
      return write_entry_header(handle, path, AE_IFDIR, 0755, 0, "", archive_path);
    case EntryKind::kSymlink:
      return write_entry_header(handle, path, AE_IFLNK, 0777, 0, entry.link_target, archive_path);
    case EntryKind::kFile: {
      Status header = write_entry_header(handle, path, AE_IFREG, entry.executable ? 0755 : 0644,
                                         static_cast<int64_t>(entry.size), "", archive_path);
      if (!header) return header;
      return write_file_data(handle, payload_dir / entry.relative, archive_path);
    }
  }
  return ok_unit();
}

// Lists the payload's entries and computes its checksum.
Result<std::vector<TreeEntry>> list_payload(const fs::path& payload_dir, std::string& checksum) {
  TreeOptions options;
  options.skip_dependency_folders = false;
  options.max_file_bytes = UINTMAX_MAX;

  std::vector<TreeEntry> entries;
  PayloadDigest digest;
  Result<TreeReport> report = walk_tree(payload_dir, options, [&](const TreeEntry& entry) -> Status {
    std::string path = entry.relative.generic_string();
    if (entry.kind == EntryKind::kFolder) digest.add_folder(path);
    if (entry.kind == EntryKind::kSymlink) digest.add_symlink(path, entry.link_target);
    if (entry.kind == EntryKind::kFile) {
      Result<std::string> content = hash_file(payload_dir / entry.relative);
      if (!content) return fail(content.error());
      digest.add_file(path, entry.executable, *content);
    }
    entries.push_back(entry);
    return ok_unit();
  });
  if (!report) return fail(report.error());
  checksum = digest.finish();
  return entries;
}

// ---- Reading -------------------------------------------------------------------

Error unsafe_entry(const fs::path& archive_path, const std::string& entry, const std::string& problem) {
  return make_error("artifact.unsafe_entry",
                    "Artifact " + archive_path.string() + " contains entry '" + entry + "' that " + problem + ".",
                    "Do not deploy this file; build the artifact again with `hivemind build`.");
}

// Returns the entry's path without a leading "./" or trailing '/', or an
// error when it is absolute, has a ".." component, or lies outside app/.
Result<std::string> checked_entry_path(const std::string& raw, const fs::path& archive_path) {
  std::string path = raw;
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  while (!path.empty() && path.back() == '/') path.pop_back();

  if (path.empty()) return fail(unsafe_entry(archive_path, raw, "has an empty path"));
  if (path.front() == '/') return fail(unsafe_entry(archive_path, raw, "has an absolute path"));
  for (const fs::path& part : fs::path(path)) {
    if (part == "..") return fail(unsafe_entry(archive_path, raw, "has a '..' component"));
  }
  bool in_payload = path == kPayloadFolder || path.rfind(std::string(kPayloadFolder) + "/", 0) == 0;
  if (path != kManifestName && !in_payload) {
    return fail(unsafe_entry(archive_path, raw, "lies outside the app/ folder"));
  }
  return path;
}

Status check_link_target(const std::string& path, const std::string& target, const fs::path& archive_path) {
  if (target.empty() || target.front() == '/') {
    return fail(unsafe_entry(archive_path, path, "is a symlink to an absolute path"));
  }
  fs::path resolved = (fs::path(path).parent_path() / target).lexically_normal();
  auto first = resolved.begin();
  if (first == resolved.end() || *first != kPayloadFolder) {
    return fail(unsafe_entry(archive_path, path, "is a symlink that points outside app/"));
  }
  return ok_unit();
}

// Refuses to write through a symlink that an earlier entry created.
Status check_no_symlink_parent(const fs::path& destination, const std::string& path, const fs::path& archive_path) {
  fs::path current = destination;
  fs::path relative(path);
  for (auto part = relative.begin(); part != relative.end(); ++part) {
    if (std::next(part) == relative.end()) break;
    current /= *part;
    std::error_code error;
    if (fs::is_symlink(fs::symlink_status(current, error))) {
      return fail(unsafe_entry(archive_path, path, "would be written through a symlink"));
    }
  }
  return ok_unit();
}

struct ReadState {
  const fs::path& archive_path;
  const fs::path* destination;  // null: verify only
  PayloadDigest digest;
  std::string manifest_text;
  std::set<std::string> seen;
  std::set<std::string> symlinks;
};

Result<std::string> read_entry_data(archive* handle, ReadState& state, const std::string& path, bool executable,
                                    bool keep_text) {
  std::ofstream out;
  if (state.destination != nullptr) {
    fs::path target = *state.destination / path;
    out.open(target, std::ios::binary | std::ios::trunc);
    if (!out) return fail(make_error("artifact.write_failed", "Cannot write " + target.string() + "."));
  }
  Sha256 hash;
  std::string text;
  std::vector<char> buffer(64 * 1024);
  la_ssize_t count = 0;
  while ((count = archive_read_data(handle, buffer.data(), buffer.size())) > 0) {
    std::string_view chunk(buffer.data(), static_cast<size_t>(count));
    hash.update(chunk);
    if (keep_text && text.size() + chunk.size() <= kMaxManifestBytes) text.append(chunk);
    if (out.is_open()) out.write(chunk.data(), count);
  }
  if (count < 0) return fail(archive_error("artifact.read_failed", state.archive_path, handle));
  if (out.is_open()) {
    out.close();
    std::error_code error;
    fs::permissions(*state.destination / path, executable ? fs::perms(0755) : fs::perms(0644), error);
  }
  return keep_text ? text : hash.finish_hex();
}

std::string payload_relative(const std::string& path) {
  return path == kPayloadFolder ? "" : path.substr(std::string(kPayloadFolder).size() + 1);
}

Status read_one_entry(archive* handle, archive_entry* entry, ReadState& state) {
  Result<std::string> path = checked_entry_path(archive_entry_pathname(entry), state.archive_path);
  if (!path) return fail(path.error());
  if (!state.seen.insert(*path).second) return fail(unsafe_entry(state.archive_path, *path, "appears twice"));
  if (archive_entry_hardlink(entry) != nullptr) {
    return fail(unsafe_entry(state.archive_path, *path, "is a hard link"));
  }
  for (fs::path prefix = fs::path(*path).parent_path(); !prefix.empty(); prefix = prefix.parent_path()) {
    if (state.symlinks.count(prefix.generic_string()) > 0) {
      return fail(unsafe_entry(state.archive_path, *path, "would be written through a symlink"));
    }
  }
  if (state.destination != nullptr) {
    Status parents = check_no_symlink_parent(*state.destination, *path, state.archive_path);
    if (!parents) return parents;
  }

  mode_t type = archive_entry_filetype(entry);
  bool executable = (archive_entry_perm(entry) & 0100) != 0;
  if (*path == kManifestName) {
    if (type != AE_IFREG || archive_entry_size(entry) > static_cast<la_int64_t>(kMaxManifestBytes)) {
      return fail(unsafe_entry(state.archive_path, *path, "is not a manifest file of at most 1 MiB"));
    }
    Result<std::string> text = read_entry_data(handle, state, *path, false, true);
    if (!text) return fail(text.error());
    state.manifest_text = *text;
    return ok_unit();
  }

  std::string relative = payload_relative(*path);
  if (type == AE_IFDIR) {
    std::error_code error;
    if (state.destination != nullptr) fs::create_directories(*state.destination / *path, error);
    if (error)
      return fail(make_error("artifact.write_failed", "Cannot create folder " + *path + ": " + error.message()));
    if (!relative.empty()) state.digest.add_folder(relative);
    return ok_unit();
  }
  if (type == AE_IFLNK) {
    std::string target = archive_entry_symlink(entry) != nullptr ? archive_entry_symlink(entry) : "";
    Status link = check_link_target(*path, target, state.archive_path);
    if (!link) return link;
    std::error_code error;
    if (state.destination != nullptr) fs::create_symlink(target, *state.destination / *path, error);
    if (error)
      return fail(make_error("artifact.write_failed", "Cannot create symlink " + *path + ": " + error.message()));
    state.symlinks.insert(*path);
    state.digest.add_symlink(relative, target);
    return ok_unit();
  }
  if (type != AE_IFREG) return fail(unsafe_entry(state.archive_path, *path, "is not a file, folder or symlink"));

  std::error_code error;
  if (state.destination != nullptr) fs::create_directories((*state.destination / *path).parent_path(), error);
  if (error)
    return fail(make_error("artifact.write_failed", "Cannot create the folder of " + *path + ": " + error.message()));
  Result<std::string> content = read_entry_data(handle, state, *path, executable, false);
  if (!content) return fail(content.error());
  state.digest.add_file(relative, executable, *content);
  return ok_unit();
}

// Checks, after extraction, that every symlink resolves inside app/ even
// when its target runs through other symlinks.
Status check_extracted_symlinks(const ReadState& state) {
  fs::path payload = fs::canonical(*state.destination / kPayloadFolder);
  for (const std::string& link : state.symlinks) {
    std::error_code error;
    fs::path resolved = fs::weakly_canonical(*state.destination / link, error);
    auto mismatch = std::mismatch(payload.begin(), payload.end(), resolved.begin(), resolved.end());
    if (error || mismatch.first != payload.end()) {
      return fail(unsafe_entry(state.archive_path, link, "is a symlink that resolves outside app/"));
    }
  }
  return ok_unit();
}

Result<Manifest> read_archive(const fs::path& archive_path, const fs::path* destination) {
  ArchiveReader handle(archive_read_new());
  archive_read_support_filter_gzip(handle.get());
  archive_read_support_format_tar(handle.get());
  if (archive_read_open_filename(handle.get(), archive_path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return fail(archive_error("artifact.read_failed", archive_path, handle.get()));
  }

  ReadState state{archive_path, destination, {}, {}, {}, {}};
  archive_entry* entry = nullptr;
  int code = ARCHIVE_OK;
  while ((code = archive_read_next_header(handle.get(), &entry)) == ARCHIVE_OK) {
    Status status = read_one_entry(handle.get(), entry, state);
    if (!status) return fail(status.error());
  }
  if (code != ARCHIVE_EOF) return fail(archive_error("artifact.read_failed", archive_path, handle.get()));

  if (state.manifest_text.empty()) {
    return fail(make_error("artifact.no_manifest",
                           "Artifact " + archive_path.string() + " has no " + kManifestName + ".",
                           "Build it with `hivemind build`."));
  }
  if (destination != nullptr) {
    Status links = check_extracted_symlinks(state);
    if (!links) return fail(links.error());
  }
  Result<Manifest> manifest = manifest_from_json(state.manifest_text);
  if (!manifest) return manifest;

  std::string checksum = state.digest.finish();
  if (checksum != manifest->payload_checksum) {
    return fail(make_error("artifact.checksum_mismatch",
                           "Artifact " + archive_path.string() +
                               " is damaged or was modified: its payload checksum is " + checksum +
                               ", but the manifest records " + manifest->payload_checksum + ".",
                           "Build it again with `hivemind build`."));
  }
  return manifest;
}

}  // namespace

std::string manifest_to_json(const Manifest& manifest) {
  Json json = {{"schema_version", manifest.schema_version},
               {"app", manifest.app},
               {"version", manifest.version},
               {"commit", manifest.commit},
               {"dirty", manifest.dirty},
               {"source_hash", manifest.source_hash},
               {"runtime", manifest.runtime},
               {"runtime_version", manifest.runtime_version},
               {"start_command", manifest.start_command},
               {"port", manifest.port},
               {"env_var_names", manifest.env_var_names},
               {"payload_checksum", manifest.payload_checksum},
               {"built_at", manifest.built_at}};
  return json.dump(2) + "\n";
}

Result<Manifest> manifest_from_json(const std::string& text) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(make_error("artifact.bad_manifest", std::string(kManifestName) + " is not a JSON object."));
  }
  try {
    Manifest manifest;
    manifest.schema_version = json.at("schema_version").get<int>();
    manifest.app = json.at("app").get<std::string>();
    manifest.version = json.at("version").get<std::string>();
    manifest.commit = json.at("commit").get<std::string>();
    manifest.dirty = json.at("dirty").get<bool>();
    manifest.source_hash = json.at("source_hash").get<std::string>();
    manifest.runtime = json.at("runtime").get<std::string>();
    manifest.runtime_version = json.at("runtime_version").get<std::string>();
    manifest.start_command = json.at("start_command").get<std::string>();
    manifest.port = json.at("port").get<int>();
    manifest.env_var_names = json.at("env_var_names").get<std::vector<std::string>>();
    manifest.payload_checksum = json.at("payload_checksum").get<std::string>();
    manifest.built_at = json.at("built_at").get<std::string>();
    return manifest;
  } catch (const Json::exception& error) {
    return fail(make_error("artifact.bad_manifest",
                           std::string(kManifestName) + " is missing a field or has a wrong type: " + error.what()));
  }
}

Result<Manifest> write_artifact(const fs::path& payload_dir, Manifest manifest, const fs::path& archive_path) {
  std::string checksum;
  Result<std::vector<TreeEntry>> entries = list_payload(payload_dir, checksum);
  if (!entries) return fail(entries.error());
  manifest.payload_checksum = checksum;
  std::string manifest_text = manifest_to_json(manifest);

  std::error_code error;
  fs::create_directories(archive_path.parent_path(), error);
  fs::path partial = archive_path;
  partial += ".partial-" + std::to_string(getpid());

  ArchiveWriter handle(archive_write_new());
  archive_write_add_filter_gzip(handle.get());
  archive_write_set_format_pax_restricted(handle.get());
  if (archive_write_open_filename(handle.get(), partial.c_str()) != ARCHIVE_OK) {
    return fail(archive_error("artifact.write_failed", partial, handle.get()));
  }

  Status status = write_entry_header(handle.get(), kManifestName, AE_IFREG, 0644,
                                     static_cast<int64_t>(manifest_text.size()), "", partial);
  if (status && archive_write_data(handle.get(), manifest_text.data(), manifest_text.size()) < 0) {
    status = fail(archive_error("artifact.write_failed", partial, handle.get()));
  }
  if (status) status = write_entry_header(handle.get(), kPayloadFolder, AE_IFDIR, 0755, 0, "", partial);
  for (const TreeEntry& entry : *entries) {
    if (!status) break;
    status = write_payload_entry(handle.get(), payload_dir, entry, partial);
  }
  if (status && archive_write_close(handle.get()) != ARCHIVE_OK) {
    status = fail(archive_error("artifact.write_failed", partial, handle.get()));
  }
  handle.reset();

  if (status) fs::rename(partial, archive_path, error);
  if (!status || error) {
    fs::remove(partial, error);
    if (!status) return fail(status.error());
    return fail(make_error("artifact.write_failed", "Cannot move the artifact to " + archive_path.string() + "."));
  }
  log::get("build")->info("wrote artifact {} ({} entries, {})", archive_path.string(), entries->size(), checksum);
  return manifest;
}

Result<Manifest> verify_artifact(const fs::path& archive_path) { return read_archive(archive_path, nullptr); }

Result<Manifest> extract_artifact(const fs::path& archive_path, const fs::path& destination) {
  std::error_code error;
  if (fs::exists(destination) && !fs::is_empty(destination, error)) {
    return fail(make_error("artifact.destination_not_empty",
                           "Cannot extract into " + destination.string() + ": the folder is not empty.",
                           "Pass a new or empty folder."));
  }
  fs::create_directories(destination, error);
  if (error) {
    return fail(make_error("artifact.write_failed", "Cannot create " + destination.string() + ": " + error.message()));
  }

  Result<Manifest> manifest = read_archive(archive_path, &destination);
  if (!manifest) {
    fs::remove_all(destination, error);
    log::get("build")->warn("rejected artifact {}: {}", archive_path.string(), manifest.error().message);
  }
  return manifest;
}

}  // namespace hivemind::build
