#include "verify/sheriff.h"

#include <gtest/gtest.h>

#include <fstream>

#include "aws/ssm.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace hivemind::verify {
namespace {

namespace fs = std::filesystem;

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
  // The known password, and the URL that carries a password.
  ASSERT_EQ(outcome.violations.size(), 2u);
  for (const auto& violation : outcome.violations) {
    EXPECT_EQ(violation.resource, (folder.path() / "leaky.log").string());
    EXPECT_EQ(violation.detail.find("s3cret"), std::string::npos);
  }
}

TEST(SheriffRulesTest, StateIsSearchedForValuesOnly) {
  hivemind::testing::TempDir folder;
  fs::path state = folder.path() / "state.db";
  std::ofstream(state) << "evidence: DATABASE_URL=postgres://notes:notes@localhost:5432/notes\n";
  SecuritySnapshot snapshot;
  snapshot.secrets.emplace_back("s3cret-Pa55word");
  snapshot.files_to_scan_for_values = {state};

  EXPECT_EQ(rule(evaluate(snapshot, {}), kRuleNoSecrets).state, RuleState::kPassed);

  std::ofstream(state, std::ios::app) << "password s3cret-Pa55word\n";
  const RuleOutcome outcome = rule(evaluate(snapshot, {}), kRuleNoSecrets);
  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_EQ(outcome.violations[0].resource, state.string());
}

TEST(SheriffRulesTest, SecretPatternInUserDataIsViolation) {
  SecuritySnapshot snapshot;
  snapshot.texts_to_scan = {{"user data of i-1", "#!/bin/sh\nexport API_TOKEN=tok-9f8e7d6c5b4a\n"},
                            {"user data of i-2", "#!/bin/sh\nexport DB_PASSWORD=\"$(read_parameter)\"\n"}};

  const RuleOutcome outcome = rule(evaluate(snapshot, {}), kRuleNoSecrets);

  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_EQ(outcome.violations[0].resource, "user data of i-1");
  EXPECT_EQ(outcome.violations[0].detail.find("tok-9f8e"), std::string::npos);
  EXPECT_NE(outcome.note.find("only secret-looking patterns"), std::string::npos);
}

TEST(SheriffRulesTest, Ipv6WorldRuleIsViolation) {
  SecuritySnapshot snapshot;
  snapshot.load_balancer_group_id = "sg-lb";
  snapshot.security_groups = {{"sg-app", "app", "", "vpc-1", {ingress(8080, "::/0")}, {}},
                              {"sg-lb", "lb", "", "vpc-1", {ingress(22, "::/0")}, {}}};

  SecurityReport report = evaluate(snapshot, {});

  const RuleOutcome& world = rule(report, kRuleWorldOpen);
  EXPECT_EQ(world.state, RuleState::kViolated);
  ASSERT_EQ(world.violations.size(), 2u);
  EXPECT_NE(world.violations[0].detail.find("::/0"), std::string::npos);
  EXPECT_EQ(rule(report, kRuleSshCidr).state, RuleState::kViolated);
}

TEST(SheriffRulesTest, UnencryptedVolumeIsViolation) {
  SecuritySnapshot snapshot;
  aws::ec2::Instance instance;
  instance.id = "i-1";
  snapshot.instances = {instance};
  aws::ec2::Volume encrypted;
  encrypted.id = "vol-1";
  encrypted.encrypted = true;
  encrypted.attached_instance_ids = {"i-1"};
  aws::ec2::Volume plain = encrypted;
  plain.id = "vol-2";
  plain.encrypted = false;
  snapshot.volumes = std::vector<aws::ec2::Volume>{encrypted, plain};

  const RuleOutcome outcome = rule(evaluate(snapshot, {}), kRuleVolumesEncrypted);

  EXPECT_EQ(outcome.state, RuleState::kViolated);
  ASSERT_EQ(outcome.violations.size(), 1u);
  EXPECT_EQ(outcome.violations[0].resource, "vol-2");
  EXPECT_NE(outcome.violations[0].detail.find("i-1"), std::string::npos);
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

TEST_F(SheriffMotoTest, FlagsIpv6WorldRuleOpenedByHand) {
  auto vpc = aws::ec2::create_vpc(client(), "10.21.0.0/16", {});
  ASSERT_TRUE(vpc.ok());
  auto load_balancer_group = aws::ec2::create_security_group(client(), "hm-lb6", "load balancer", vpc->id, {});
  auto app_group = aws::ec2::create_security_group(client(), "hm-app6", "app", vpc->id, {});
  ASSERT_TRUE(load_balancer_group.ok());
  ASSERT_TRUE(app_group.ok());
  ASSERT_TRUE(aws::ec2::authorize_ingress(client(), *load_balancer_group, {ingress(443, "::/0")}).ok());
  aws::ec2::IngressRule everything = ingress(0, "::/0");
  everything.protocol = "-1";
  everything.to_port = 0;
  ASSERT_TRUE(aws::ec2::authorize_ingress(client(), *app_group, {everything}).ok());

  auto snapshot = collect_aws_facts(client(), {*load_balancer_group, *app_group}, {}, "");
  ASSERT_TRUE(snapshot.ok());
  snapshot->load_balancer_group_id = *load_balancer_group;
  SecurityReport report = evaluate(*snapshot, {});

  const RuleOutcome& world = rule(report, kRuleWorldOpen);
  EXPECT_EQ(world.state, RuleState::kViolated);
  ASSERT_EQ(world.violations.size(), 1u);
  EXPECT_EQ(world.violations[0].resource, *app_group);
  EXPECT_NE(world.violations[0].detail.find("all traffic from ::/0"), std::string::npos);
}

TEST_F(SheriffMotoTest, FlagsUnencryptedVolumeAndUserDataSecret) {
  auto image = aws::ssm::latest_al2023_ami(client());
  ASSERT_TRUE(image.ok());
  // A launch without a block device mapping, as a hand-made instance would
  // be: moto then gives it an unencrypted root volume.
  auto launched =
      client().query(aws::ec2_service(), "RunInstances",
                     {{"ImageId", *image},
                      {"InstanceType", "t3.micro"},
                      {"MinCount", "1"},
                      {"MaxCount", "1"},
                      {"UserData", aws::ec2::base64_encode("#!/bin/sh\nDB_PASSWORD=hunter2-hunter2 ./run\n")}});
  ASSERT_TRUE(launched.ok());
  std::string instance_id = launched->result.child("instancesSet").child("item").child("instanceId").text().as_string();

  auto snapshot = collect_aws_facts(client(), {}, {instance_id}, "");
  ASSERT_TRUE(snapshot.ok());
  snapshot->secrets.emplace_back("hunter2-hunter2");
  SecurityReport report = evaluate(*snapshot, {});

  const RuleOutcome& volumes = rule(report, kRuleVolumesEncrypted);
  EXPECT_EQ(volumes.state, RuleState::kViolated);
  ASSERT_EQ(volumes.violations.size(), 1u);
  EXPECT_EQ(volumes.violations[0].resource.rfind("vol-", 0), 0u);
  const RuleOutcome& secrets = rule(report, kRuleNoSecrets);
  EXPECT_EQ(secrets.state, RuleState::kViolated);
  // The known value, and the assignment pattern.
  ASSERT_EQ(secrets.violations.size(), 2u);
  EXPECT_EQ(secrets.violations[0].resource, "user data of " + instance_id);
  EXPECT_FALSE(report.passed());
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
  EXPECT_EQ(rule(report, kRuleVolumesEncrypted).state, RuleState::kPassed);
  EXPECT_EQ(rule(report, kRuleNoSecrets).state, RuleState::kPassed);
  ASSERT_EQ(snapshot->databases.size(), 1u);
}

}  // namespace
}  // namespace hivemind::verify
