#include "repo/source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/process.h"
#include "common/strings.h"
#include "support/temp_dir.h"

namespace hivemind::repo {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Runs git with an isolated configuration and returns its trimmed output.
std::string git(const fs::path& folder, std::vector<std::string> arguments) {
  ProcessOptions options;
  options.working_dir = folder;
  options.environment = {{"PATH", std::getenv("PATH")},
                         {"HOME", folder.string()},
                         {"GIT_CONFIG_NOSYSTEM", "1"},
                         {"GIT_AUTHOR_NAME", "Test"},
                         {"GIT_AUTHOR_EMAIL", "test@example.invalid"},
                         {"GIT_COMMITTER_NAME", "Test"},
                         {"GIT_COMMITTER_EMAIL", "test@example.invalid"}};
  arguments.insert(arguments.begin(), "git");
  Result<ProcessResult> result = run_process(arguments, options);
  EXPECT_TRUE(result.ok());
  if (!result) return "";
  EXPECT_EQ(result->exit_code, 0) << result->output;
  return trim(result->output);
}

// A repository with two commits on main, a tag v1 on the first commit, and a
// branch "feature" with a third commit.
struct SampleRepository {
  fs::path folder;
  std::string first_commit;
  std::string main_commit;
  std::string feature_commit;
};

SampleRepository make_sample_repository(const fs::path& folder) {
  SampleRepository sample{folder, "", "", ""};
  fs::create_directories(folder);
  git(folder, {"init", "-q", "-b", "main"});
  write_file(folder / "package.json", "{\"name\": \"sample\"}\n");
  git(folder, {"add", "-A"});
  git(folder, {"commit", "-q", "-m", "first"});
  sample.first_commit = git(folder, {"rev-parse", "HEAD"});
  git(folder, {"tag", "v1"});

  write_file(folder / "server.js", "console.log('main');\n");
  git(folder, {"add", "-A"});
  git(folder, {"commit", "-q", "-m", "second"});
  sample.main_commit = git(folder, {"rev-parse", "HEAD"});

  git(folder, {"checkout", "-q", "-b", "feature"});
  write_file(folder / "feature.js", "console.log('feature');\n");
  git(folder, {"add", "-A"});
  git(folder, {"commit", "-q", "-m", "feature"});
  sample.feature_commit = git(folder, {"rev-parse", "HEAD"});
  git(folder, {"checkout", "-q", "main"});
  return sample;
}

int closed_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// A loopback HTTP server that answers every request with 401 and a Basic
// challenge, as a Git host does for a private repository.
class UnauthorizedServer {
 public:
  UnauthorizedServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener_, 8);
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~UnauthorizedServer() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stopping_) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      ssize_t ignored = read(client, buffer, sizeof(buffer));
      (void)ignored;
      ++requests_;
      const std::string response =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"private\"\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n";
      ignored = write(client, response.data(), response.size());
      close(client);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class SourceTest : public ::testing::Test {
 protected:
  fs::path state_dir() const { return temp_.path() / "state"; }
  fs::path path(const std::string& name) const { return temp_.path() / name; }
  SourceOptions options(const std::string& ref = "") const { return SourceOptions{ref, state_dir()}; }

  testing::TempDir temp_;
};

TEST_F(SourceTest, PlainFolderHasNoCommit) {
  write_file(path("app/index.js"), "1;\n");

  Result<SourceTree> tree = open_source(path("app").string(), options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_EQ(tree->root, fs::canonical(path("app")));
  EXPECT_EQ(tree->commit, "");
  EXPECT_FALSE(tree->dirty);
  EXPECT_FALSE(fs::exists(state_dir()));
}

TEST_F(SourceTest, WorkingCopyReportsHeadCommit) {
  SampleRepository sample = make_sample_repository(path("repo"));

  Result<SourceTree> tree = open_source(sample.folder.string(), options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_EQ(tree->commit, sample.main_commit);
  EXPECT_FALSE(tree->dirty);
  EXPECT_EQ(tree->root, fs::canonical(sample.folder));
  EXPECT_FALSE(fs::exists(state_dir()));
}

TEST_F(SourceTest, ModifiedFileMakesWorkingCopyDirty) {
  SampleRepository sample = make_sample_repository(path("repo"));
  write_file(sample.folder / "server.js", "console.log('changed');\n");

  Result<SourceTree> tree = open_source(sample.folder.string(), options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_EQ(tree->commit, sample.main_commit);
  EXPECT_TRUE(tree->dirty);
}

TEST_F(SourceTest, UntrackedFileMakesWorkingCopyDirty) {
  SampleRepository sample = make_sample_repository(path("repo"));
  write_file(sample.folder / "notes.txt", "new\n");

  Result<SourceTree> tree = open_source(sample.folder.string(), options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_TRUE(tree->dirty);
}

TEST_F(SourceTest, SubfolderDirtyOnlyFromItsOwnFiles) {
  SampleRepository sample = make_sample_repository(path("repo"));
  write_file(sample.folder / "web/index.js", "1;\n");
  git(sample.folder, {"add", "-A"});
  git(sample.folder, {"commit", "-q", "-m", "web"});
  write_file(sample.folder / "other.txt", "outside the subfolder\n");

  Result<SourceTree> tree = open_source((sample.folder / "web").string(), options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_FALSE(tree->dirty);
  EXPECT_EQ(tree->root, fs::canonical(sample.folder / "web"));
}

TEST_F(SourceTest, MissingPathIsRejected) {
  Result<SourceTree> tree = open_source(path("missing").string(), options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.not_found");
  EXPECT_NE(tree.error().message.find(path("missing").string()), std::string::npos);
  EXPECT_FALSE(tree.error().remediation.empty());
}

TEST_F(SourceTest, FileIsNotAFolder) {
  write_file(path("file.txt"), "x");

  Result<SourceTree> tree = open_source(path("file.txt").string(), options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.not_a_folder");
}

TEST_F(SourceTest, RepositoryWithoutCommitsIsRejected) {
  fs::create_directories(path("empty"));
  git(path("empty"), {"init", "-q"});

  Result<SourceTree> tree = open_source(path("empty").string(), options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.empty_repository");
  EXPECT_NE(tree.error().remediation.find("git commit"), std::string::npos);
}

TEST_F(SourceTest, RefOnPlainFolderIsRejected) {
  write_file(path("app/index.js"), "1;\n");

  Result<SourceTree> tree = open_source(path("app").string(), options("main"));

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.ref_without_git");
}

TEST_F(SourceTest, FileUrlClonesDefaultBranch) {
  SampleRepository sample = make_sample_repository(path("repo"));
  std::string url = "file://" + sample.folder.string();

  Result<SourceTree> tree = open_source(url, options());

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_EQ(tree->commit, sample.main_commit);
  EXPECT_FALSE(tree->dirty);
  EXPECT_TRUE(starts_with(tree->root.string(), (state_dir() / "repos").string()));
  EXPECT_TRUE(fs::exists(tree->root / "server.js"));
  EXPECT_FALSE(fs::exists(tree->root / "feature.js"));
}

TEST_F(SourceTest, FileUrlChecksOutBranchTagAndCommit) {
  SampleRepository sample = make_sample_repository(path("repo"));
  std::string url = "file://" + sample.folder.string();

  Result<SourceTree> branch = open_source(url, options("feature"));
  ASSERT_TRUE(branch.ok()) << branch.error().describe();
  EXPECT_EQ(branch->commit, sample.feature_commit);
  EXPECT_TRUE(fs::exists(branch->root / "feature.js"));

  Result<SourceTree> tag = open_source(url, options("v1"));
  ASSERT_TRUE(tag.ok()) << tag.error().describe();
  EXPECT_EQ(tag->commit, sample.first_commit);
  EXPECT_FALSE(fs::exists(tag->root / "server.js"));
  EXPECT_FALSE(fs::exists(tag->root / "feature.js"));

  Result<SourceTree> commit = open_source(url, options(sample.main_commit.substr(0, 10)));
  ASSERT_TRUE(commit.ok()) << commit.error().describe();
  EXPECT_EQ(commit->commit, sample.main_commit);
  EXPECT_TRUE(fs::exists(commit->root / "server.js"));
}

TEST_F(SourceTest, CachedCloneIsFetchedAgain) {
  SampleRepository sample = make_sample_repository(path("repo"));
  std::string url = "file://" + sample.folder.string();
  Result<SourceTree> first = open_source(url, options("main"));
  ASSERT_TRUE(first.ok()) << first.error().describe();

  write_file(sample.folder / "later.js", "1;\n");
  git(sample.folder, {"add", "-A"});
  git(sample.folder, {"commit", "-q", "-m", "later"});
  std::string later_commit = git(sample.folder, {"rev-parse", "HEAD"});
  Result<SourceTree> second = open_source(url, options("main"));

  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(second->root, first->root);
  EXPECT_EQ(second->commit, later_commit);
  EXPECT_TRUE(fs::exists(second->root / "later.js"));
  EXPECT_EQ(std::distance(fs::directory_iterator(state_dir() / "repos"), fs::directory_iterator()), 1);
}

TEST_F(SourceTest, WorkingCopyWithRefIsClonedIntoCache) {
  SampleRepository sample = make_sample_repository(path("repo"));
  write_file(sample.folder / "server.js", "uncommitted\n");

  Result<SourceTree> tree = open_source(sample.folder.string(), options("v1"));

  ASSERT_TRUE(tree.ok()) << tree.error().describe();
  EXPECT_EQ(tree->commit, sample.first_commit);
  EXPECT_TRUE(starts_with(tree->root.string(), (state_dir() / "repos").string()));
  std::ifstream untouched(sample.folder / "server.js");
  std::string line;
  std::getline(untouched, line);
  EXPECT_EQ(line, "uncommitted");
}

TEST_F(SourceTest, UnknownRefIsRejected) {
  SampleRepository sample = make_sample_repository(path("repo"));

  Result<SourceTree> tree = open_source("file://" + sample.folder.string(), options("no-such-branch"));

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.unknown_ref");
  EXPECT_NE(tree.error().message.find("no-such-branch"), std::string::npos);
  EXPECT_NE(tree.error().remediation.find("git ls-remote"), std::string::npos);
}

TEST_F(SourceTest, EmptyRemoteIsRejected) {
  fs::create_directories(path("empty.git"));
  git(path("empty.git"), {"init", "-q", "--bare"});

  Result<SourceTree> tree = open_source("file://" + path("empty.git").string(), options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.empty_repository");
}

TEST_F(SourceTest, MissingFileUrlIsUnreachable) {
  std::string url = "file://" + path("nowhere.git").string();

  Result<SourceTree> tree = open_source(url, options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.unreachable");
  EXPECT_NE(tree.error().message.find(url), std::string::npos);
  EXPECT_FALSE(fs::exists(state_dir() / "repos") && !fs::is_empty(state_dir() / "repos"));
}

TEST_F(SourceTest, ClosedPortIsUnreachable) {
  std::string url = "http://127.0.0.1:" + std::to_string(closed_loopback_port()) + "/x.git";

  Result<SourceTree> tree = open_source(url, options());

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.unreachable");
  EXPECT_NE(tree.error().remediation.find("git ls-remote"), std::string::npos);
}

TEST_F(SourceTest, PrivateRepositoryAsksForCredentials) {
  UnauthorizedServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/private.git";
  // No credential helper is configured in this HOME, so none can answer.
  const char* old_home = std::getenv("HOME");
  std::string saved_home = old_home != nullptr ? old_home : "";
  setenv("HOME", temp_.path().c_str(), 1);

  Result<SourceTree> tree = open_source(url, options());
  setenv("HOME", saved_home.c_str(), 1);

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.auth_required");
  EXPECT_NE(tree.error().remediation.find("SSH agent"), std::string::npos);
  EXPECT_NE(tree.error().remediation.find("credential helper"), std::string::npos);
  EXPECT_GE(server.requests(), 1);
}

TEST_F(SourceTest, UrlWithoutStateDirIsRejected) {
  Result<SourceTree> tree = open_source("file:///nowhere.git", SourceOptions{"", ""});

  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, "source.no_state_dir");
}

}  // namespace
}  // namespace hivemind::repo
