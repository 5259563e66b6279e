#include "verify/sheriff.h"

#include <gtest/gtest.h>

#include <fstream>

#include "aws/ssm.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::verify {
namespace {

const RuleOutcome& rule(const SecurityReport& report, std::string_view id) {
  for (const auto& outcome : report.rules) {
    if (outcome.rule_id == id) return outcome;
  }
  static RuleOutcome missing;
  ADD_FAILURE() << "no rule " << id;
  return missing;
}

aws::ec2::IngressRule ingress(int port, const std::string& cidr) {
  aws::ec2::IngressRule rule;
  rule.from_port = port;
  rule.to_port = port;
  rule.cidr_block = cidr;
  return rule;
}

TEST(SheriffRulesTest, LoadBalancerMayTakeHttpFromWorld) {
  SecuritySnapshot snapshot;
  snapshot.load_balancer_group_id = "sg-lb";
  snapshot.security_groups = {{"sg-lb", "lb", "", "vpc-1", {ingress(80, "0.0.0.0/0"), ingress(443, "::/0")}, {}}};

  SecurityReport report = evaluate(snapshot, {});

  EXPECT_EQ(rule(report, kRuleWorldOpen).state, RuleState::kPassed);
}

TEST(SheriffRulesTest, AppGroupOpenToWorldIsViolation) {
  SecuritySnapshot snapshot;
  snapshot.load_balancer_group_id = "sg-lb";
  snapshot.security_groups = {{"sg-app", "app", "", "vpc-1", {ingress(80, "0.0.0.0/0")}, {}}};

  SecurityReport report = evaluate(snapshot, {});

  const RuleOutcome& outcome = rule(report, kRuleWorldOpen);
  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_EQ(outcome.violations[0].resource, "sg-app");
  EXPECT_FALSE(report.passed());
}

TEST(SheriffRulesTest, SshFromWideRangeIsViolation) {
  SecuritySnapshot snapshot;
  snapshot.security_groups = {
      {"sg-app", "app", "", "vpc-1", {ingress(22, "203.0.113.7/32"), ingress(22, "10.0.0.0/8")}, {}}};

  SecurityReport report = evaluate(snapshot, {});

  const RuleOutcome& outcome = rule(report, kRuleSshCidr);
  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_NE(outcome.violations[0].detail.find("10.0.0.0/8"), std::string::npos);
}

TEST(SheriffRulesTest, AllowedRuleIsOverriddenNotFailed) {
  SecuritySnapshot snapshot;
  snapshot.security_groups = {{"sg-app", "app", "", "vpc-1", {ingress(22, "10.0.0.0/8")}, {}}};

  SecurityReport report = evaluate(snapshot, {std::string(kRuleSshCidr)});

  EXPECT_EQ(rule(report, kRuleSshCidr).state, RuleState::kOverridden);
  EXPECT_TRUE(report.passed());
}

TEST(SheriffRulesTest, MetadataWithoutTokensIsViolation) {
  SecuritySnapshot snapshot;
  aws::ec2::Instance instance;
  instance.id = "i-1";
  instance.http_tokens = "optional";
  snapshot.instances = {instance};

  EXPECT_EQ(rule(evaluate(snapshot, {}), kRuleImdsV2).state, RuleState::kViolated);
}

TEST(SheriffRulesTest, SshdPasswordLoginIsViolation) {
  SecuritySnapshot snapshot;
  snapshot.sshd_effective_config = "port 22\npasswordauthentication yes\npubkeyauthentication yes\n";

  EXPECT_EQ(rule(evaluate(snapshot, {}), kRuleSshPassword).state, RuleState::kViolated);

  snapshot.sshd_effective_config = "port 22\npasswordauthentication no\nkbdinteractiveauthentication no\n";
  EXPECT_EQ(rule(evaluate(snapshot, {}), kRuleSshPassword).state, RuleState::kPassed);
}

TEST(SheriffRulesTest, UncollectedFactsAreNotChecked) {
  SecurityReport report = evaluate(SecuritySnapshot{}, {});

  EXPECT_EQ(rule(report, kRuleSshPassword).state, RuleState::kNotChecked);
  EXPECT_EQ(rule(report, kRuleNoSecrets).state, RuleState::kNotChecked);
  EXPECT_EQ(rule(report, kRuleVolumesEncrypted).state, RuleState::kNotChecked);
  EXPECT_TRUE(report.passed());
}

TEST(SheriffRulesTest, PasswordInLogFileIsViolation) {
  hivemind::testing::TempDir folder;
  std::ofstream(folder.path() / "clean.log") << "started on port 8080\n";
  std::ofstream(folder.path() / "leaky.log") << "DATABASE_URL=postgres://app:s3cret-Pa55word@db/app\n";
  SecuritySnapshot snapshot;
  snapshot.secrets.emplace_back("s3cret-Pa55word");
  snapshot.files_to_scan = {folder.path() / "clean.log", folder.path() / "leaky.log"};
  snapshot.texts_to_scan = {{"user data of i-1", "#!/bin/sh\necho hello\n"}};

  SecurityReport report = evaluate(snapshot, {});

  const RuleOutcome& outcome = rule(report, kRuleNoSecrets);

  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_EQ(outcome.violations[0].resource, (folder.path() / "leaky.log").string());
  EXPECT_EQ(outcome.violations[0].detail.find("s3cret"), std::string::npos);
}

TEST(SheriffScriptsTest, HardeningTurnsPasswordLoginOff) {
  std::string script = sshd_hardening_script();

  EXPECT_NE(script.find("PasswordAuthentication no"), std::string::npos);
  EXPECT_NE(script.find("sshd -t"), std::string::npos);
}

class SheriffMotoTest : public hivemind::testing::MotoTest {};

TEST_F(SheriffMotoTest, FlagsGroupOpenedToWorldByHand) {
  auto vpc = aws::ec2::create_vpc(client(), "10.20.0.0/16", {});
  ASSERT_TRUE(vpc.ok());
  auto load_balancer_group = aws::ec2::create_security_group(client(), "hm-lb", "load balancer", vpc->id, {});
  auto app_group = aws::ec2::create_security_group(client(), "hm-app", "app", vpc->id, {});
  ASSERT_TRUE(load_balancer_group.ok());
  ASSERT_TRUE(app_group.ok());
  ASSERT_TRUE(aws::ec2::authorize_ingress(client(), *load_balancer_group, {ingress(443, "0.0.0.0/0")}).ok());
  ASSERT_TRUE(aws::ec2::authorize_ingress(client(), *app_group, {ingress(22, "0.0.0.0/0")}).ok());

  auto snapshot = collect_aws_facts(client(), {*load_balancer_group, *app_group}, {}, "");
  ASSERT_TRUE(snapshot.ok());
  snapshot->load_balancer_group_id = *load_balancer_group;
  SecurityReport report = evaluate(*snapshot, {});

  const RuleOutcome& world = rule(report, kRuleWorldOpen);
  EXPECT_EQ(world.state, RuleState::kViolated);
  ASSERT_EQ(world.violations.size(), 1u);
  EXPECT_EQ(world.violations[0].resource, *app_group);
  EXPECT_EQ(rule(report, kRuleSshCidr).state, RuleState::kViolated);
}

TEST_F(SheriffMotoTest, PassesPrivateEncryptedDatabaseAndImdsV2Instance) {
  auto image = aws::ssm::latest_al2023_ami(client());
  ASSERT_TRUE(image.ok());
  aws::ec2::RunInstancesRequest launch;
  launch.image_id = *image;
  launch.instance_type = "t3.micro";
  auto instance = aws::ec2::run_instance(client(), launch);
  ASSERT_TRUE(instance.ok());
  aws::rds::CreateDbInstanceRequest create;
  create.id = "hm-sheriff-db";
  create.db_name = "app";
  create.master_username = "app";
  create.master_password = Secret("not-used-by-moto-1");
  ASSERT_TRUE(aws::rds::create_db_instance(client(), create).ok());

  auto snapshot = collect_aws_facts(client(), {}, {instance->id}, "hm-sheriff-db");
  ASSERT_TRUE(snapshot.ok());
  SecurityReport report = evaluate(*snapshot, {});

  EXPECT_EQ(rule(report, kRuleDatabasePrivate).state, RuleState::kPassed);
  EXPECT_EQ(rule(report, kRuleDatabaseEncrypted).state, RuleState::kPassed);
  EXPECT_EQ(rule(report, kRuleImdsV2).state, RuleState::kPassed);
  ASSERT_EQ(snapshot->databases.size(), 1u);
}

}  // namespace
}  // namespace hivemind::verify
