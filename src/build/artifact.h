#pragma once

// A versioned artifact: a gzip-compressed tar file with the manifest
// (hivemind-manifest.json) first and the application's files under app/.
// The manifest's payload checksum covers every entry under app/, so a reader
// can tell a complete, unmodified artifact from anything else.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace hivemind::build {

inline constexpr int kManifestSchemaVersion = 1;
inline constexpr const char* kManifestName = "hivemind-manifest.json";
inline constexpr const char* kPayloadFolder = "app";

struct Manifest {
  int schema_version = kManifestSchemaVersion;
  std::string app;              // lowercase letters, digits and '-'
  std::string version;          // "1a2b3c4d", "1a2b3c4d-dirty-<hash>", or a content hash for a plain folder
  std::string commit;           // full Git commit, empty for a plain folder
  bool dirty = false;           // built from uncommitted changes
  std::string source_hash;      // SHA-256 of the source tree and build commands; keys the build cache
  std::string runtime;          // node, python, go, ...
  std::string runtime_version;  // as the analysis found it, e.g. ">=20"; empty when unknown
  std::string start_command;
  int port = 0;                            // 0 for a worker with no port
  std::vector<std::string> env_var_names;  // names only: values never enter an artifact
  std::string payload_checksum;            // "sha256:<hex>" over the entries under app/
  std::string built_at;                    // UTC, ISO 8601
};

std::string manifest_to_json(const Manifest& manifest);
Result<Manifest> manifest_from_json(const std::string& text);

// Writes `payload_dir` under app/ and the manifest into `archive_path`
// (through a temporary file renamed at the end, so a reader never sees half
// an artifact). Fills in manifest.payload_checksum and returns the manifest.
Result<Manifest> write_artifact(const std::filesystem::path& payload_dir, Manifest manifest,
                                const std::filesystem::path& archive_path);

// Reads the whole artifact, checks every entry's path and the payload
// checksum, and returns the manifest. Extracts nothing.
Result<Manifest> verify_artifact(const std::filesystem::path& archive_path);

// Extracts the artifact into `destination` (created; must not exist or be
// empty) after the same checks as verify_artifact(), plus a check that no
// extracted symlink resolves outside `destination`/app. On any error the
// destination is removed again.
Result<Manifest> extract_artifact(const std::filesystem::path& archive_path, const std::filesystem::path& destination);

}  // namespace hivemind::build
