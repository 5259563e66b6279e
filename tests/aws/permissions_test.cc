// The doctor's permission checks against moto_server: probe calls change
// nothing, and with IAM authentication on, the actions a user's policy denies
// come back as exactly the missing ones.

#include "aws/permissions.h"

#include <gtest/gtest.h>

#include <set>

#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "aws/rds.h"
#include "aws/ssm.h"
#include "aws/sts.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using permissions::Verdict;
using testing::MotoServer;
using testing::MotoTest;

std::set<std::string> actions_with(const permissions::Report& report, Verdict verdict) {
  std::set<std::string> actions;
  for (const permissions::ActionCheck& check : report.checks) {
    if (check.verdict == verdict) actions.insert(check.action);
  }
  return actions;
}

TEST(RequiredPermissions, CoverEveryServiceOnce) {
  std::set<std::string> labels;
  std::set<std::string> actions;
  std::size_t total = 0;
  for (const permissions::ServicePermissions& group : permissions::required_permissions()) {
    EXPECT_TRUE(labels.insert(group.label).second) << group.label << " is listed twice";
    for (const std::string& action : group.actions) {
      actions.insert(action);
      ++total;
    }
  }
  EXPECT_EQ(actions.size(), total) << "an action is listed twice";
  for (const char* action : {"ec2:RunInstances", "ec2:CreateTags", "elasticloadbalancing:CreateListener",
                             "rds:CreateDBInstance", "logs:PutLogEvents", "cloudwatch:PutDashboard",
                             "ce:GetCostAndUsage", "ssm:GetParametersByPath", "tag:GetResources"}) {
    EXPECT_EQ(actions.count(action), 1u) << action;
  }
}

TEST(ClassifyProbe, DeniedCodesAreMissing) {
  std::string detail;
  AwsError error;
  error.code = "UnauthorizedOperation";
  error.http_status = 403;
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kMissing);
  error.code = "AccessDeniedException";
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kMissing);
  EXPECT_EQ(detail, "denied: AccessDeniedException");
}

TEST(ClassifyProbe, DryRunAndNotFoundAreAllowed) {
  std::string detail;
  AwsError error;
  error.code = "DryRunOperation";
  error.http_status = 412;
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kAllowed);
  error.code = "LoadBalancerNotFound";
  error.http_status = 400;
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kAllowed);
  EXPECT_EQ(permissions::classify_probe(nullptr, detail), Verdict::kAllowed);
}

TEST(ClassifyProbe, ServerAndTransportFailuresAreUnknown) {
  std::string detail;
  AwsError error;
  error.code = "InternalFailure";
  error.http_status = 500;
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kUnknown);
  error.kind = ErrorKind::kTransport;
  error.code = kTransportConnectionRefused;
  error.http_status = 0;
  EXPECT_EQ(permissions::classify_probe(&error, detail), Verdict::kUnknown);
}

class ProbeTest : public MotoTest {};

TEST_F(ProbeTest, ProbesAllowEverythingAndCreateNothing) {
  auto identity = sts::get_caller_identity(client());
  ASSERT_AWS_OK(identity);
  auto vpcs_before = ec2::describe_vpcs(client(), {});
  ASSERT_AWS_OK(vpcs_before);

  permissions::Report report = permissions::probe_permissions(client(), {"us-east-1", identity->account});

  EXPECT_EQ(report.method, permissions::Method::kProbe);
  EXPECT_EQ(actions_with(report, Verdict::kMissing), std::set<std::string>{});
  EXPECT_EQ(actions_with(report, Verdict::kUnknown), std::set<std::string>{});

  auto vpcs_after = ec2::describe_vpcs(client(), {});
  ASSERT_AWS_OK(vpcs_after);
  EXPECT_EQ(vpcs_after->size(), vpcs_before->size());
  EXPECT_EQ(ec2::describe_security_groups(client(), {}, {{"group-name", {"hivemind-doctor-probe"}}})->size(), 0u);
  EXPECT_EQ(ec2::describe_key_pairs(client(), {})->size(), 0u);
  EXPECT_EQ(ec2::describe_instances(client(), {})->size(), 0u);
  EXPECT_EQ(elbv2::describe_load_balancers(client(), {})->size(), 0u);
  EXPECT_EQ(elbv2::describe_target_groups(client(), {})->size(), 0u);
  EXPECT_EQ(rds::describe_db_instances(client())->size(), 0u);
  EXPECT_EQ(rds::describe_subnet_groups(client())->size(), 0u);
  EXPECT_EQ(logs::describe_log_groups(client(), "")->size(), 0u);
  EXPECT_EQ(cloudwatch::describe_alarms(client(), {})->size(), 0u);
  EXPECT_EQ(cloudwatch::list_dashboards(client())->size(), 0u);
  EXPECT_EQ(ssm::get_parameters_by_path(client(), "/", true)->size(), 0u);
}

// A moto with IAM authentication on, and a user whose policy allows
// everything except `denied`.
class AuthProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = MotoServer::start({.initial_no_auth_action_count = testing::kIamUserSetupCalls}).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::string policy_denying(const std::vector<std::string>& denied) {
    nlohmann::json statements = nlohmann::json::array({{{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}}});
    if (!denied.empty()) statements.push_back({{"Effect", "Deny"}, {"Action", denied}, {"Resource", "*"}});
    return nlohmann::json{{"Version", "2012-10-17"}, {"Statement", statements}}.dump();
  }

  static MotoServer* server_;
};

MotoServer* AuthProbeTest::server_ = nullptr;

TEST_F(AuthProbeTest, DeniedActionsAreExactlyTheMissingOnes) {
  ASSERT_NE(server_, nullptr);
  // Each denied action is one that only a write call exercises, across the
  // probe kinds: EC2 DryRun, a query-protocol write and JSON writes.
  // CloudWatch is left out: moto 5.2.1 checks its calls as "monitoring:*",
  // not the "cloudwatch:*" that IAM uses.
  const std::vector<std::string> denied{
      "ec2:RunInstances",     "ec2:CreateTags",          "elasticloadbalancing:CreateListener",
      "rds:CreateDBInstance", "logs:PutRetentionPolicy", "ssm:PutParameter"};
  auto user = testing::create_iam_user(*server_, "doctor-test", policy_denying(denied));
  ASSERT_TRUE(user.has_value());

  ClientConfig config = server_->client_config();
  config.credentials = user->credentials;
  std::unique_ptr<AwsClient> client = server_->make_client(config);
  auto identity = sts::get_caller_identity(*client);
  ASSERT_AWS_OK(identity);
  EXPECT_NE(identity->arn.find("user/doctor-test"), std::string::npos) << identity->arn;

  permissions::Report report =
      permissions::check_permissions(*client, *client, identity->arn, {"us-east-1", identity->account});

  // moto does not implement SimulatePrincipalPolicy, so the probes ran.
  EXPECT_EQ(report.method, permissions::Method::kProbe);
  EXPECT_FALSE(report.fallback_reason.empty());
  EXPECT_EQ(actions_with(report, Verdict::kMissing), std::set<std::string>(denied.begin(), denied.end()));
  EXPECT_EQ(actions_with(report, Verdict::kUnknown), std::set<std::string>{});
}

}  // namespace
}  // namespace hivemind::aws
