#include "build/workspace.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace hivemind::build {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class WorkspaceTest : public ::testing::Test {
 protected:
  fs::path source(const std::string& name = "") const { return temp_.path() / "source" / name; }
  fs::path copy(const std::string& name = "") const { return temp_.path() / "copy" / name; }

  void SetUp() override {
    write_file(source("package.json"), "{}\n");
    write_file(source("src/index.js"), "1;\n");
    write_file(source("src/build/helper.js"), "2;\n");
  }

  testing::TempDir temp_;
};

TEST_F(WorkspaceTest, CopyLeavesOutGitDependenciesAndOutputs) {
  write_file(source(".git/HEAD"), "ref: refs/heads/main\n");
  write_file(source("node_modules/ms/index.js"), "3;\n");
  write_file(source("packages/a/node_modules/x.js"), "4;\n");
  write_file(source("dist/bundle.js"), "5;\n");
  write_file(source(".next/cache"), "6;\n");
  write_file(source("api/__pycache__/x.pyc"), "7;\n");

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_TRUE(fs::exists(copy("package.json")));
  EXPECT_TRUE(fs::exists(copy("src/index.js")));
  EXPECT_TRUE(fs::exists(copy("src/build/helper.js")));  // "build" is excluded only at the root
  EXPECT_FALSE(fs::exists(copy(".git")));
  EXPECT_FALSE(fs::exists(copy("node_modules")));
  EXPECT_FALSE(fs::exists(copy("packages/a/node_modules")));
  EXPECT_FALSE(fs::exists(copy("dist")));
  EXPECT_FALSE(fs::exists(copy(".next")));
  EXPECT_FALSE(fs::exists(copy("api/__pycache__")));
  EXPECT_EQ(report->files, 3u);
}

TEST_F(WorkspaceTest, CopyKeepsExecutableBitAndInternalSymlink) {
  write_file(source("bin/run"), "#!/bin/sh\n");
  fs::permissions(source("bin/run"), fs::perms(0755));
  fs::create_symlink("../src/index.js", source("bin/index.js"));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_NE(fs::status(copy("bin/run")).permissions() & fs::perms::owner_exec, fs::perms::none);
  ASSERT_TRUE(fs::is_symlink(copy("bin/index.js")));
  EXPECT_EQ(fs::read_symlink(copy("bin/index.js")), "../src/index.js");
}

TEST_F(WorkspaceTest, SymlinkOutsideTreeIsRejected) {
  write_file(temp_.path() / "secret.txt", "x\n");
  fs::create_symlink("../../secret.txt", source("src/secret.txt"));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "build.bad_symlink");
  EXPECT_NE(report.error().message.find("src/secret.txt"), std::string::npos);
  EXPECT_NE(report.error().message.find("outside"), std::string::npos);
}

TEST_F(WorkspaceTest, AbsoluteSymlinkIsRejected) {
  fs::create_symlink("/etc/hostname", source("hostname"));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "build.bad_symlink");
}

TEST_F(WorkspaceTest, SymlinkLoopIsRejected) {
  fs::create_symlink("b", source("a"));
  fs::create_symlink("a", source("b"));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "build.bad_symlink");
  EXPECT_NE(report.error().message.find("loop"), std::string::npos);
}

TEST_F(WorkspaceTest, SymlinkToParentFolderIsRejected) {
  fs::create_symlink("..", source("src/up"));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "build.bad_symlink");
  EXPECT_NE(report.error().message.find("loop"), std::string::npos);
}

TEST_F(WorkspaceTest, HugeFileIsSkippedAndListed) {
  write_file(source("data/dump.sql"), std::string(4096, 'x'));
  TreeOptions options;
  options.max_file_bytes = 1024;

  Result<TreeReport> report = copy_tree(source(), copy(), options);

  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_FALSE(fs::exists(copy("data/dump.sql")));
  ASSERT_EQ(report->skipped.size(), 1u);
  EXPECT_NE(report->skipped[0].find("data/dump.sql"), std::string::npos);
}

TEST_F(WorkspaceTest, BinaryFilesAreCountedAndCopied) {
  write_file(source("public/logo.png"), std::string("\x89PNG\0\0\0", 7));

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->binary_files, 1u);
  EXPECT_EQ(fs::file_size(copy("public/logo.png")), 7u);
}

TEST_F(WorkspaceTest, CopyIntoExistingFolderIsRejected) {
  fs::create_directories(copy());

  Result<TreeReport> report = copy_tree(source(), copy(), TreeOptions{});

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "build.destination_exists");
}

TEST_F(WorkspaceTest, HashFollowsContentNotDependencies) {
  Result<std::string> first = hash_tree(source(), TreeOptions{});
  write_file(source("node_modules/ms/index.js"), "installed\n");
  Result<std::string> with_dependencies = hash_tree(source(), TreeOptions{});
  write_file(source("src/index.js"), "changed;\n");
  Result<std::string> changed = hash_tree(source(), TreeOptions{});

  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(with_dependencies.ok());
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(*first, *with_dependencies);
  EXPECT_NE(*first, *changed);
}

TEST_F(WorkspaceTest, HashChangesWithExecutableBit) {
  Result<std::string> before = hash_tree(source(), TreeOptions{});
  fs::permissions(source("src/index.js"), fs::perms(0755));
  Result<std::string> after = hash_tree(source(), TreeOptions{});

  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
}

}  // namespace
}  // namespace hivemind::build
