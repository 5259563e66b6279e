// The report as exact text, and its file written from a real store.

#include "report/report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace hivemind::report {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kStart = system_clock::from_time_t(1796342400);  // 2026-12-04 00:00:00 UTC

state::StageRun run(state::StageName stage, int start_second, int length_ms,
                    state::StageOutcome outcome = state::StageOutcome::succeeded) {
  state::StageRun stage_run;
  stage_run.deployment_id = "hm-shop-abc234";
  stage_run.stage = stage;
  stage_run.started_at = kStart + seconds(start_second);
  stage_run.finished_at = stage_run.started_at + std::chrono::milliseconds(length_ms);
  stage_run.outcome = outcome;
  return stage_run;
}

state::Resource resource(const std::string& name, const std::string& kind, const std::string& id, double cost) {
  state::Resource record;
  record.deployment_id = "hm-shop-abc234";
  record.logical_name = name;
  record.kind = kind;
  record.physical_id = id;
  record.status = state::ResourceStatus::created;
  record.estimated_monthly_cost_usd = cost;
  return record;
}

ReportData sample() {
  ReportData data;
  data.deployment.id = "hm-shop-abc234";
  data.deployment.app_name = "shop";
  data.deployment.source = "/src/shop";
  data.deployment.version = "4f2a9c1";
  data.deployment.region = "us-east-1";
  data.deployment.endpoint_kind = state::EndpointKind::sandbox;
  data.deployment.status = state::DeploymentStatus::deployed;
  data.deployment.created_at = kStart;
  data.deployment.options_json = R"({"source":"/src/shop","instance_type":"t3.small","max_retries":3,"ref":""})";
  data.stage_runs = {run(state::StageName::analyze, 0, 1200), run(state::StageName::provision, 2, 95'000)};
  data.resources = {resource("vpc", "ec2:vpc", "vpc-1", 0), resource("instance", "ec2:instance", "i-1", 15.18),
                    resource("database", "rds:db-instance", "hm-shop-abc234-db", 12.41)};
  state::VerificationResult health;
  health.check = "http_health";
  health.passed = true;
  health.detail = "200 in 12 ms";
  data.verifications = {health};
  data.attributes = {{"url", "http://hm-shop.example"},
                     {"ssh_command", "ssh -i key ec2-user@127.0.0.1 -p 2201"},
                     {"database_endpoint", "postgres://app:hunter2@127.0.0.1:5433/shop"},
                     {"analysis", R"({"runtime":"node","port":3000,"db_password":"x","services":["postgres"]})"}};
  return data;
}

TEST(Report, RendersExactText) {
  const std::string expected =
      "HiveMind deployment report: hm-shop-abc234\n"
      "\n"
      "App:      shop\n"
      "Status:   deployed\n"
      "Source:   /src/shop\n"
      "Version:  4f2a9c1\n"
      "Region:   us-east-1 (sandbox)\n"
      "Created:  2026-12-04 00:00:00 UTC\n"
      "\n"
      "Timeline\n"
      "  analyze    succeeded      1.2s\n"
      "  provision  succeeded     1m35s\n"
      "  total                    1m36s\n"
      "\n"
      "Resources\n"
      "  vpc                  ec2:vpc                            created    vpc-1  $0.00/month (estimate)\n"
      "  instance             ec2:instance                       created    i-1  $15.18/month (estimate)\n"
      "  database             rds:db-instance                    created    hm-shop-abc234-db  $12.41/month "
      "(estimate)\n"
      "\n"
      "Configuration\n"
      "  port             3000  (detected)\n"
      "  runtime          node  (detected)\n"
      "  services         [\"postgres\"]  (detected)\n"
      "  instance_type    t3.small  (overridden)\n"
      "  max_retries      3  (default)\n"
      "\n"
      "Verification\n"
      "  [pass] http_health: 200 in 12 ms\n"
      "\n"
      "Access\n"
      "  URL:        http://hm-shop.example\n"
      "  SSH:        ssh -i key ec2-user@127.0.0.1 -p 2201\n"
      "  Database:   postgres://127.0.0.1:5433/shop\n"
      "\n"
      "Costs (estimates from list prices; see `hivemind status --show-costs` for actual costs)\n"
      "  ec2:instance                       $15.18/month\n"
      "  rds:db-instance                    $12.41/month\n"
      "  total                              $27.59/month\n"
      "\n"
      "Next steps\n"
      "  hivemind status hm-shop-abc234 --show-logs --show-metrics --show-costs\n"
      "  hivemind update hm-shop-abc234\n"
      "  hivemind rollback hm-shop-abc234\n"
      "  hivemind destroy hm-shop-abc234\n";
  EXPECT_EQ(render_report(sample()), expected);
}

TEST(Report, LiveSectionsFollowCosts) {
  ReportData data = sample();
  data.live = {{"Logs (last hour)", "No errors in the window.\n\n2026-12-04 12:00:00  INFO up\n"},
               {"Costs", "month to date  $3.21  (actual, Cost Explorer)\n"}};

  std::string text = render_report(data);

  EXPECT_NE(text.find("  total                              $27.59/month\n"
                      "\n"
                      "Logs (last hour)\n"
                      "  No errors in the window.\n"
                      "\n"
                      "  2026-12-04 12:00:00  INFO up\n"
                      "\n"
                      "Costs\n"
                      "  month to date  $3.21  (actual, Cost Explorer)\n"
                      "\n"
                      "Next steps\n"),
            std::string::npos)
      << text;
}

TEST(Report, NeverContainsPassword) {
  std::string text = render_report(sample());
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find("db_password"), std::string::npos);
}

TEST(Report, FailureGetsTroubleshooting) {
  ReportData data = sample();
  data.deployment.status = state::DeploymentStatus::failed;
  data.deployment.failed_stage = state::StageName::provision;
  data.deployment.failure = state::FailureInfo{"provisioner", "ec2:RunInstances", "req-42", "Instance limit reached."};
  data.verifications[0].passed = false;
  std::string text = render_report(data);
  size_t at = text.find("\nTroubleshooting\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(text.substr(at),
            "\nTroubleshooting\n"
            "  Stage provision failed (provisioner): Instance limit reached.\n"
            "  AWS action: ec2:RunInstances\n"
            "  AWS request id: req-42\n"
            "  Retry from the failed stage: hivemind retry hm-shop-abc234\n"
            "  Failed checks: read the app's logs with hivemind status hm-shop-abc234 --show-logs\n");
}

TEST(Report, CheckNotRunIsNotAPass) {
  ReportData data = sample();
  state::VerificationResult skipped;
  skipped.check = "security:imds_v2";
  skipped.passed = true;
  skipped.detail = "not_checked: Instance metadata requires IMDSv2 tokens\nNo instance was described.";
  data.verifications.push_back(skipped);
  std::string text = render_report(data);
  EXPECT_NE(text.find("  [not checked] security:imds_v2: not_checked: Instance metadata requires IMDSv2 tokens\n"
                      "      No instance was described.\n"),
            std::string::npos)
      << text;
}

TEST(Report, StripsCredentialsFromEndpoints) {
  EXPECT_EQ(strip_credentials("postgres://u:p@db:5432/x"), "postgres://db:5432/x");
  EXPECT_EQ(strip_credentials("db.example:5432"), "db.example:5432");
  EXPECT_EQ(strip_credentials("u:p@db:3306"), "db:3306");
}

TEST(Report, WritesFileAndStoresPath) {
  testing::TempDir dir;
  state::StoreOptions options;
  options.state_dir = dir.path();
  auto store = state::Store::open(options);
  ASSERT_TRUE(store.ok());
  state::Deployment deployment = sample().deployment;
  ASSERT_TRUE((*store)->create_deployment(deployment).ok());
  ASSERT_TRUE((*store)->set_attribute(deployment.id, "url", "http://hm-shop.example").ok());

  auto written = write_report(**store, deployment.id);
  ASSERT_TRUE(written.ok()) << written.error().describe();
  EXPECT_EQ(*written, dir.path() / deployment.id / "report" / "report.txt");
  std::ifstream in(*written);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("  URL:        http://hm-shop.example\n"), std::string::npos);
  auto path = (*store)->attribute(deployment.id, "report_path");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->value_or(""), written->string());
}

TEST(Report, UnknownDeploymentIsError) {
  testing::TempDir dir;
  state::StoreOptions options;
  options.state_dir = dir.path();
  auto store = state::Store::open(options);
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE(write_report(**store, "hm-none-aaaaaa").ok());
}

}  // namespace
}  // namespace hivemind::report
