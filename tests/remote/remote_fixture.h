#pragma once

// A GoogleTest fixture with a fresh client key pair and a real sshd on
// 127.0.0.1 that trusts it, plus a connect() that logs in as root.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "remote/keys.h"
#include "remote/session.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace hivemind::remote {

class RemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = generate_key_pair(keys_.path() / "id_ed25519", "hivemind-test");
    ASSERT_TRUE(pair.ok()) << pair.error().describe();
    key_ = *pair;
    sshd_ = std::make_unique<hivemind::testing::SshdServer>(key_.public_key);
  }

  ConnectOptions options() const {
    ConnectOptions options;
    options.host = sshd_->host();
    options.port = sshd_->port();
    options.user = sshd_->user();
    options.private_key_file = key_.private_key_file;
    options.connect_timeout = std::chrono::seconds(5);
    return options;
  }

  // Connects with the default options; on an error, fails the test and
  // returns nothing.
  std::optional<Session> connect() {
    auto session = Session::connect(options());
    if (!session.ok()) {
      ADD_FAILURE() << session.error().describe() << "\nsshd log:\n" << sshd_->log_text();
      return std::nullopt;
    }
    return std::move(session).value();
  }

  hivemind::testing::TempDir keys_;
  KeyPair key_;
  std::unique_ptr<hivemind::testing::SshdServer> sshd_;
};

}  // namespace hivemind::remote
