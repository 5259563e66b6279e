#include "build/artifact.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Manifest sample_manifest() {
  Manifest manifest;
  manifest.app = "shop";
  manifest.version = "1a2b3c4d";
  manifest.commit = "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b";
  manifest.source_hash = "abc123";
  manifest.runtime = "node";
  manifest.runtime_version = ">=20";
  manifest.start_command = "node server.js";
  manifest.port = 3000;
  manifest.env_var_names = {"DATABASE_URL", "SESSION_SECRET"};
  manifest.built_at = "2026-01-02T03:04:05Z";
  return manifest;
}

// One entry of a hand-made tar file.
struct CraftedEntry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;
  std::string link;  // symlink target, or hard link source
  bool hardlink = false;
};

// Writes a gzip tar file with exactly these entries, as an attacker could.
void craft_archive(const fs::path& path, const std::vector<CraftedEntry>& entries) {
  archive* handle = archive_write_new();
  archive_write_add_filter_gzip(handle);
  archive_write_set_format_pax_restricted(handle);
  ASSERT_EQ(archive_write_open_filename(handle, path.c_str()), ARCHIVE_OK);
  for (const CraftedEntry& crafted : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, crafted.path.c_str());
    archive_entry_set_filetype(entry, crafted.type);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(crafted.content.size()));
    if (crafted.hardlink) archive_entry_set_hardlink(entry, crafted.link.c_str());
    if (!crafted.hardlink && !crafted.link.empty()) archive_entry_set_symlink(entry, crafted.link.c_str());
    archive_write_header(handle, entry);
    if (!crafted.content.empty()) archive_write_data(handle, crafted.content.data(), crafted.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(handle);
  archive_write_free(handle);
}

// A manifest entry whose checksum matches an empty payload, so that only
// the entry under test can make the artifact fail.
CraftedEntry empty_payload_manifest() {
  Manifest manifest = sample_manifest();
  manifest.payload_checksum = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  return CraftedEntry{kManifestName, AE_IFREG, manifest_to_json(manifest), "", false};
}

class ArtifactTest : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) const { return temp_.path() / name; }

  // Writes a payload with a file, an executable script, a nested file and an
  // internal symlink, and returns the artifact's path.
  fs::path write_sample_artifact() {
    write_file(path("payload/server.js"), "console.log('hi');\n");
    write_file(path("payload/bin/start.sh"), "#!/bin/sh\nexec node server.js\n");
    fs::permissions(path("payload/bin/start.sh"), fs::perms(0755));
    write_file(path("payload/node_modules/ms/index.js"), "module.exports = 1;\n");
    fs::create_symlink("../server.js", path("payload/bin/server.js"));
    Result<Manifest> written = write_artifact(path("payload"), sample_manifest(), path("out/shop-1a2b3c4d.tar.gz"));
    EXPECT_TRUE(written.ok()) << written.error().describe();
    return path("out/shop-1a2b3c4d.tar.gz");
  }

  // Extracts `archive` into a fresh folder and expects an unsafe-entry error
  // that leaves nothing behind.
  void expect_rejected(const fs::path& archive, const std::string& expected_code = "artifact.unsafe_entry") {
    Result<Manifest> verified = verify_artifact(archive);
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(verified.error().code, expected_code) << verified.error().message;

    Result<Manifest> extracted = extract_artifact(archive, path("extract"));
    ASSERT_FALSE(extracted.ok());
    EXPECT_EQ(extracted.error().code, expected_code) << extracted.error().message;
    EXPECT_FALSE(fs::exists(path("extract")));
    EXPECT_FALSE(fs::exists(path("evil")));
    EXPECT_FALSE(fs::exists(temp_.path().parent_path() / "evil"));
  }

  testing::TempDir temp_;
};

TEST_F(ArtifactTest, ManifestRoundTripsThroughJson) {
  Manifest manifest = sample_manifest();
  manifest.payload_checksum = "sha256:00";

  Result<Manifest> parsed = manifest_from_json(manifest_to_json(manifest));

  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->app, "shop");
  EXPECT_EQ(parsed->version, "1a2b3c4d");
  EXPECT_EQ(parsed->commit, manifest.commit);
  EXPECT_FALSE(parsed->dirty);
  EXPECT_EQ(parsed->runtime, "node");
  EXPECT_EQ(parsed->runtime_version, ">=20");
  EXPECT_EQ(parsed->start_command, "node server.js");
  EXPECT_EQ(parsed->port, 3000);
  EXPECT_EQ(parsed->env_var_names, (std::vector<std::string>{"DATABASE_URL", "SESSION_SECRET"}));
  EXPECT_EQ(parsed->payload_checksum, "sha256:00");
  EXPECT_EQ(parsed->built_at, "2026-01-02T03:04:05Z");
}

TEST_F(ArtifactTest, ManifestWithMissingFieldIsRejected) {
  Result<Manifest> parsed = manifest_from_json("{\"app\": \"shop\"}");

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, "artifact.bad_manifest");
}

TEST_F(ArtifactTest, WrittenArtifactVerifies) {
  fs::path archive = write_sample_artifact();

  Result<Manifest> manifest = verify_artifact(archive);

  ASSERT_TRUE(manifest.ok()) << manifest.error().describe();
  EXPECT_EQ(manifest->app, "shop");
  EXPECT_EQ(manifest->port, 3000);
  EXPECT_EQ(manifest->payload_checksum.rfind("sha256:", 0), 0u);
  EXPECT_EQ(manifest->payload_checksum.size(), 7u + 64u);
}

TEST_F(ArtifactTest, ExtractRestoresFilesModesAndLinks) {
  fs::path archive = write_sample_artifact();

  Result<Manifest> manifest = extract_artifact(archive, path("extract"));

  ASSERT_TRUE(manifest.ok()) << manifest.error().describe();
  EXPECT_EQ(read_file(path("extract/app/server.js")), "console.log('hi');\n");
  EXPECT_EQ(read_file(path("extract/app/node_modules/ms/index.js")), "module.exports = 1;\n");
  EXPECT_NE(fs::status(path("extract/app/bin/start.sh")).permissions() & fs::perms::owner_exec, fs::perms::none);
  EXPECT_EQ(fs::status(path("extract/app/server.js")).permissions() & fs::perms::owner_exec, fs::perms::none);
  ASSERT_TRUE(fs::is_symlink(path("extract/app/bin/server.js")));
  EXPECT_EQ(fs::read_symlink(path("extract/app/bin/server.js")), "../server.js");
  EXPECT_EQ(read_file(path("extract/hivemind-manifest.json")), manifest_to_json(*manifest));
}

TEST_F(ArtifactTest, ChecksumChangesWithContent) {
  fs::path first = write_sample_artifact();
  std::string first_checksum = verify_artifact(first)->payload_checksum;
  write_file(path("payload/server.js"), "console.log('changed');\n");

  Result<Manifest> second = write_artifact(path("payload"), sample_manifest(), path("out/second.tar.gz"));

  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->payload_checksum, first_checksum);
}

TEST_F(ArtifactTest, ModifiedPayloadFailsChecksum) {
  fs::path archive = write_sample_artifact();
  Manifest manifest = *verify_artifact(archive);
  craft_archive(path("tampered.tar.gz"), {{kManifestName, AE_IFREG, manifest_to_json(manifest), "", false},
                                          {"app", AE_IFDIR, "", "", false},
                                          {"app/server.js", AE_IFREG, "console.log('evil');\n", "", false}});

  expect_rejected(path("tampered.tar.gz"), "artifact.checksum_mismatch");
}

TEST_F(ArtifactTest, MissingManifestIsRejected) {
  craft_archive(path("bare.tar.gz"), {{"app/server.js", AE_IFREG, "1;\n", "", false}});

  expect_rejected(path("bare.tar.gz"), "artifact.no_manifest");
}

TEST_F(ArtifactTest, EmptyPayloadManifestIsAccepted) {
  craft_archive(path("empty.tar.gz"), {empty_payload_manifest(), {"app", AE_IFDIR, "", "", false}});

  Result<Manifest> manifest = verify_artifact(path("empty.tar.gz"));

  EXPECT_TRUE(manifest.ok()) << manifest.error().describe();
}

TEST_F(ArtifactTest, AbsolutePathIsRejected) {
  craft_archive(path("absolute.tar.gz"),
                {empty_payload_manifest(), {(path("evil")).string(), AE_IFREG, "x", "", false}});

  expect_rejected(path("absolute.tar.gz"));
}

TEST_F(ArtifactTest, DotDotPathIsRejected) {
  craft_archive(path("dotdot.tar.gz"), {empty_payload_manifest(), {"app/../../evil", AE_IFREG, "x", "", false}});

  expect_rejected(path("dotdot.tar.gz"));
}

TEST_F(ArtifactTest, EntryOutsideAppIsRejected) {
  craft_archive(path("outside.tar.gz"), {empty_payload_manifest(), {"etc/passwd", AE_IFREG, "x", "", false}});

  expect_rejected(path("outside.tar.gz"));
}

TEST_F(ArtifactTest, AbsoluteSymlinkIsRejected) {
  craft_archive(path("abs-link.tar.gz"), {empty_payload_manifest(), {"app/etc", AE_IFLNK, "", "/etc", false}});

  expect_rejected(path("abs-link.tar.gz"));
}

TEST_F(ArtifactTest, SymlinkOutOfAppIsRejected) {
  craft_archive(path("up-link.tar.gz"), {empty_payload_manifest(), {"app/up", AE_IFLNK, "", "../../evil", false}});

  expect_rejected(path("up-link.tar.gz"));
}

TEST_F(ArtifactTest, SymlinkChainOutOfAppIsRejected) {
  // Each link looks harmless on its own: "a" is app/, so "b" is the
  // extraction folder and "c" is its parent.
  craft_archive(path("chain.tar.gz"), {empty_payload_manifest(),
                                       {"app", AE_IFDIR, "", "", false},
                                       {"app/a", AE_IFLNK, "", ".", false},
                                       {"app/b", AE_IFLNK, "", "a/..", false},
                                       {"app/c", AE_IFLNK, "", "b/..", false}});

  Result<Manifest> extracted = extract_artifact(path("chain.tar.gz"), path("extract"));

  ASSERT_FALSE(extracted.ok());
  EXPECT_EQ(extracted.error().code, "artifact.unsafe_entry");
  EXPECT_FALSE(fs::exists(path("extract")));
}

TEST_F(ArtifactTest, WriteThroughSymlinkIsRejected) {
  fs::create_directories(path("elsewhere"));
  craft_archive(path("through.tar.gz"), {empty_payload_manifest(),
                                         {"app", AE_IFDIR, "", "", false},
                                         {"app/sub", AE_IFDIR, "", "", false},
                                         {"app/d", AE_IFLNK, "", "sub", false},
                                         {"app/d/evil", AE_IFREG, "x", "", false}});

  expect_rejected(path("through.tar.gz"));
}

TEST_F(ArtifactTest, HardLinkIsRejected) {
  craft_archive(path("hard.tar.gz"), {empty_payload_manifest(), {"app/passwd", AE_IFREG, "", "/etc/passwd", true}});

  expect_rejected(path("hard.tar.gz"));
}

TEST_F(ArtifactTest, DuplicateEntryIsRejected) {
  craft_archive(
      path("twice.tar.gz"),
      {empty_payload_manifest(), {"app/a.js", AE_IFREG, "1", "", false}, {"app/a.js", AE_IFREG, "2", "", false}});

  expect_rejected(path("twice.tar.gz"));
}

TEST_F(ArtifactTest, ExtractIntoNonEmptyFolderIsRejected) {
  fs::path archive = write_sample_artifact();
  write_file(path("extract/existing.txt"), "keep\n");

  Result<Manifest> extracted = extract_artifact(archive, path("extract"));

  ASSERT_FALSE(extracted.ok());
  EXPECT_EQ(extracted.error().code, "artifact.destination_not_empty");
  EXPECT_EQ(read_file(path("extract/existing.txt")), "keep\n");
}

}  // namespace
}  // namespace hivemind::build
