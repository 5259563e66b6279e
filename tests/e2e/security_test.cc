// The secure stage on a real sandbox deployment: every security rule is
// judged on collected facts (none left unchecked), and the host hardening
// runs through the sandbox host's scoped sudo rule.

#include <gtest/gtest.h>

#include <map>

#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

constexpr const char* kApp = "node-express-postgres";

class SecurityTest : public SandboxTest {};

TEST_F(SecurityTest, SampleAppPassesEveryRule) {
  auto repository = copy_example(kApp, sandbox().work_dir());
  ASSERT_TRUE(repository) << repository.error().describe();

  CliRun deploy = sandbox().deploy(*repository);

  ASSERT_EQ(deploy.exit_code, 0) << deploy.describe();
  std::string id = deploy.json().value("id", "");
  ASSERT_FALSE(id.empty()) << deploy.describe();
  CliRun status = sandbox().hivemind({"status", id, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  nlohmann::json document = status.json();
  std::map<std::string, nlohmann::json> checks;
  for (const nlohmann::json& check : document["verifications"]) checks[check.value("check", "")] = check;
  for (const char* rule : {"sg-world-open", "ssh-single-address", "rds-not-public", "rds-encrypted", "ec2-imdsv2",
                           "ebs-encrypted", "ssh-no-password", "no-secrets-at-rest"}) {
    std::string name = std::string("security:") + rule;
    ASSERT_TRUE(checks.count(name)) << name << " missing: " << status.out;
    // The stored detail starts with the rule's state: passed, violated,
    // overridden or not_checked.
    EXPECT_EQ(checks[name].value("detail", "").rfind("passed:", 0), 0u) << checks[name].dump();
  }

  CliRun effective = sandbox().ssh(id, "sudo -n sshd -T");
  ASSERT_EQ(effective.exit_code, 0) << effective.describe();
  EXPECT_NE(effective.out.find("passwordauthentication no"), std::string::npos) << effective.out;
  CliRun drop_in = sandbox().ssh(id, "cat /etc/ssh/sshd_config.d/00-hivemind.conf");
  EXPECT_NE(drop_in.out.find("PasswordAuthentication no"), std::string::npos) << drop_in.describe();
}

}  // namespace
}  // namespace hivemind::testing
