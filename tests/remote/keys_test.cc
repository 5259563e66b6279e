#include "remote/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace hivemind::remote {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs ssh-keygen, an implementation independent of libssh, on `arguments`.
std::string ssh_keygen(const std::string& arguments) {
  std::string output;
  FILE* pipe = ::popen(("ssh-keygen " + arguments + " 2>&1").c_str(), "r");
  char buffer[512];
  while (pipe != nullptr && std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (pipe != nullptr) ::pclose(pipe);
  return output;
}

TEST(KeyPair, PrivateKeyIsOpenSshFormatWithMode0600) {
  hivemind::testing::TempDir dir;
  auto pair = generate_key_pair(dir.path() / "id_ed25519", "deploy@shop");
  ASSERT_TRUE(pair.ok()) << pair.error().describe();

  struct stat info {};
  ASSERT_EQ(::stat(pair->private_key_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_TRUE(read_file(pair->private_key_file).starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
}

TEST(KeyPair, PublicKeyIsAuthorizedKeysLine) {
  hivemind::testing::TempDir dir;
  auto pair = generate_key_pair(dir.path() / "id_ed25519", "deploy@shop");
  ASSERT_TRUE(pair.ok()) << pair.error().describe();

  EXPECT_TRUE(pair->public_key.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")) << pair->public_key;
  EXPECT_TRUE(pair->public_key.ends_with(" deploy@shop")) << pair->public_key;
}

TEST(KeyPair, SshKeygenDerivesSamePublicKeyAndFingerprint) {
  hivemind::testing::TempDir dir;
  auto pair = generate_key_pair(dir.path() / "id_ed25519", "deploy@shop");
  ASSERT_TRUE(pair.ok()) << pair.error().describe();

  std::string derived = ssh_keygen("-y -f " + pair->private_key_file.string());
  std::string expected_prefix = pair->public_key.substr(0, pair->public_key.rfind(' '));
  EXPECT_TRUE(derived.starts_with(expected_prefix)) << derived;

  std::string listed = ssh_keygen("-l -E sha256 -f " + pair->private_key_file.string());
  EXPECT_NE(listed.find(" " + pair->fingerprint + " "), std::string::npos) << listed;
  EXPECT_TRUE(pair->fingerprint.starts_with("SHA256:"));
}

TEST(KeyPair, ExistingFileIsNotReplaced) {
  hivemind::testing::TempDir dir;
  std::filesystem::path file = dir.path() / "id_ed25519";
  std::ofstream(file) << "in use\n";

  auto pair = generate_key_pair(file, "deploy@shop");
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.error().code, "remote.key_failed");
  EXPECT_NE(pair.error().message.find(file.string()), std::string::npos) << pair.error().message;
  EXPECT_EQ(read_file(file), "in use\n");
}

TEST(KeyPair, LoadReturnsGeneratedPublicKey) {
  hivemind::testing::TempDir dir;
  auto generated = generate_key_pair(dir.path() / "id_ed25519", "c");
  ASSERT_TRUE(generated.ok()) << generated.error().describe();

  auto loaded = load_key_pair(generated->private_key_file, "c");
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_EQ(loaded->public_key, generated->public_key);
  EXPECT_EQ(loaded->fingerprint, generated->fingerprint);
}

TEST(KeyPair, LoadOfMissingFileNamesIt) {
  auto loaded = load_key_pair("/nonexistent/hivemind/id_ed25519", "c");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("/nonexistent/hivemind/id_ed25519"), std::string::npos);
}

}  // namespace
}  // namespace hivemind::remote
