#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/secret.h"
#include "remote/remote_fixture.h"

namespace hivemind::remote {
namespace {

using SftpTest = RemoteTest;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A deterministic payload of `size` bytes, not all the same byte.
std::string payload(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>((i * 31 + 7) % 251);
  return text;
}

// Returns "<octal mode> <size>" of a remote file as stat(1) prints them.
std::string remote_mode_and_size(Session& session, const std::string& path) {
  auto result = session.exec("stat -c '%a %s' " + path);
  if (!result.ok()) return result.error().describe();
  return result->stdout_text;
}

TEST_F(SftpTest, UploadSetsModeAndCreatesFolders) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path local = sshd_->scratch_folder() / "artifact.tar.gz";
  write_file(local, payload(100'000));
  std::string remote = (sshd_->scratch_folder() / "remote/releases/v1/artifact.tar.gz").string();

  Status uploaded = session->upload(local, remote, 0640);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().describe();

  EXPECT_EQ(remote_mode_and_size(*session, remote), "640 100000\n");
  EXPECT_EQ(read_file(remote), read_file(local));
}

TEST_F(SftpTest, UploadReplacesExistingFile) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path local = sshd_->scratch_folder() / "config.json";
  std::string remote = (sshd_->scratch_folder() / "deployed/config.json").string();
  write_file(local, "first version, longer than the second\n");
  ASSERT_TRUE(session->upload(local, remote, 0644).ok());

  write_file(local, "second\n");
  Status uploaded = session->upload(local, remote, 0600);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().describe();

  EXPECT_EQ(read_file(remote), "second\n");
  EXPECT_EQ(remote_mode_and_size(*session, remote), "600 7\n");
  auto leftovers = session->exec("ls -A " + (sshd_->scratch_folder() / "deployed").string());
  ASSERT_TRUE(leftovers.ok());
  EXPECT_EQ(leftovers->stdout_text, "config.json\n");
}

TEST_F(SftpTest, UploadReportsProgressToTotal) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path local = sshd_->scratch_folder() / "big.bin";
  write_file(local, payload(1'000'000));
  std::vector<std::uint64_t> reported;
  std::uint64_t total_seen = 0;

  Status uploaded = session->upload(local, (sshd_->scratch_folder() / "out/big.bin").string(), 0644,
                                    [&](std::uint64_t done, std::uint64_t total) {
                                      reported.push_back(done);
                                      total_seen = total;
                                    });
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().describe();

  ASSERT_GT(reported.size(), 1u);
  EXPECT_TRUE(std::is_sorted(reported.begin(), reported.end()));
  EXPECT_EQ(reported.back(), 1'000'000u);
  EXPECT_EQ(total_seen, 1'000'000u);
}

TEST_F(SftpTest, UploadOfMissingLocalFileNamesIt) {
  auto session = connect();
  ASSERT_TRUE(session);

  Status uploaded = session->upload(sshd_->scratch_folder() / "missing.tar.gz", "/tmp/never-written", 0644);
  ASSERT_FALSE(uploaded.ok());
  EXPECT_EQ(uploaded.error().code, "remote.upload_failed");
  EXPECT_NE(uploaded.error().message.find("missing.tar.gz"), std::string::npos);
}

TEST_F(SftpTest, UploadBelowAFileFails) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path local = sshd_->scratch_folder() / "a.txt";
  write_file(local, "a\n");
  write_file(sshd_->scratch_folder() / "plain-file", "x");

  Status uploaded = session->upload(local, (sshd_->scratch_folder() / "plain-file/a.txt").string(), 0644);
  ASSERT_FALSE(uploaded.ok());
  EXPECT_NE(uploaded.error().message.find("is not a folder"), std::string::npos) << uploaded.error().message;
}

TEST_F(SftpTest, DownloadCopiesRemoteFile) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path remote = sshd_->scratch_folder() / "app.log";
  write_file(remote, payload(70'000));
  std::filesystem::path local = keys_.path() / "app.log";

  Status downloaded = session->download(remote.string(), local);
  ASSERT_TRUE(downloaded.ok()) << downloaded.error().describe();
  EXPECT_EQ(read_file(local), read_file(remote));
}

TEST_F(SftpTest, DownloadOfMissingFileFails) {
  auto session = connect();
  ASSERT_TRUE(session);

  Status downloaded = session->download("/nonexistent/hivemind/app.log", keys_.path() / "app.log");
  ASSERT_FALSE(downloaded.ok());
  EXPECT_EQ(downloaded.error().code, "remote.sftp_failed");
  EXPECT_NE(downloaded.error().message.find("no such file"), std::string::npos) << downloaded.error().message;
}

TEST_F(SftpTest, SecretFileIsPrivateAndUnlogged) {
  std::filesystem::path log_file = keys_.path() / "hivemind.log";
  log::configure(log_file, spdlog::level::trace, false);
  auto session = connect();
  ASSERT_TRUE(session);
  std::string remote = (sshd_->scratch_folder() / "shop/shared/.env").string();
  Secret content("DATABASE_PASSWORD=\"hunter2-very-secret\"\n");

  Status written = session->write_secret_file(remote, content);
  ASSERT_TRUE(written.ok()) << written.error().describe();
  log::get("deployer")->flush();
  std::string log_text = read_file(log_file);
  log::configure_stderr(spdlog::level::off);

  EXPECT_EQ(remote_mode_and_size(*session, remote), "600 " + std::to_string(content.size()) + "\n");
  EXPECT_EQ(read_file(remote), content.reveal());
  EXPECT_NE(log_text.find("wrote secret file"), std::string::npos) << log_text;
  EXPECT_EQ(log_text.find("hunter2"), std::string::npos) << log_text;
}

TEST_F(SftpTest, SecretFileReplacesWiderExistingFile) {
  auto session = connect();
  ASSERT_TRUE(session);
  std::filesystem::path remote = sshd_->scratch_folder() / ".env";
  write_file(remote, "OLD=1\n");
  std::filesystem::permissions(remote, std::filesystem::perms(0644));

  Status written = session->write_secret_file(remote.string(), Secret("NEW=2\n"));
  ASSERT_TRUE(written.ok()) << written.error().describe();
  EXPECT_EQ(remote_mode_and_size(*session, remote.string()), "600 6\n");
  EXPECT_EQ(read_file(remote), "NEW=2\n");
}

TEST(Secret, FormatsAsRedacted) {
  Secret secret("hunter2");
  std::ostringstream streamed;
  streamed << secret;

  EXPECT_EQ(fmt::format("password={}", secret), "password=[redacted]");
  EXPECT_EQ(streamed.str(), "[redacted]");
  EXPECT_EQ(secret.reveal(), "hunter2");
}

}  // namespace
}  // namespace hivemind::remote
