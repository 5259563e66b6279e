#include "infra/plan.h"

#include <gtest/gtest.h>

#include <set>

namespace hivemind::infra {
namespace {

PlanInputs web_inputs() {
  PlanInputs inputs;
  inputs.deployment_id = "hm-shop-k3x9qa";
  inputs.app_name = "shop";
  inputs.region = "us-east-1";
  inputs.web_service = true;
  inputs.app_port = 3000;
  inputs.ssh_cidr = "203.0.113.7/32";
  return inputs;
}

std::set<std::string> names_of(const Plan& plan) {
  std::set<std::string> names;
  for (const ResourceSpec& resource : plan.resources) names.insert(resource.name);
  return names;
}

TEST(Plan, WebAppWithDatabaseHasEveryResource) {
  PlanInputs inputs = web_inputs();
  inputs.database = "postgres";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();

  std::set<std::string> expected = {"vpc",
                                    "internet_gateway",
                                    "subnet_public_a",
                                    "subnet_public_b",
                                    "subnet_private_a",
                                    "subnet_private_b",
                                    "route_table_public",
                                    "sg_load_balancer",
                                    "sg_app",
                                    "sg_database",
                                    "db_password",
                                    "db_subnet_group",
                                    "database",
                                    "key_pair",
                                    "log_group",
                                    "instance",
                                    "load_balancer",
                                    "target_group",
                                    "listener_http"};
  EXPECT_EQ(names_of(*plan), expected);
}

TEST(Plan, WorkerHasNoLoadBalancerOrDatabase) {
  PlanInputs inputs = web_inputs();
  inputs.web_service = false;
  inputs.app_port = 0;
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();

  std::set<std::string> names = names_of(*plan);
  EXPECT_EQ(names.count("load_balancer"), 0u);
  EXPECT_EQ(names.count("sg_load_balancer"), 0u);
  EXPECT_EQ(names.count("database"), 0u);
  EXPECT_EQ(names.count("instance"), 1u);
}

TEST(Plan, EveryDependencyComesEarlier) {
  PlanInputs inputs = web_inputs();
  inputs.database = "mysql";
  inputs.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok());

  std::set<std::string> seen;
  for (const ResourceSpec& resource : plan->resources) {
    for (const std::string& dependency : resource.depends_on) {
      EXPECT_TRUE(seen.count(dependency)) << resource.name << " depends on " << dependency << " which comes later";
    }
    seen.insert(resource.name);
  }
}

TEST(Plan, AppPortOpensOnlyToLoadBalancer) {
  Result<Plan> plan = build_plan(web_inputs());
  ASSERT_TRUE(plan.ok());
  const ResourceSpec* app_group = plan->find("sg_app");
  ASSERT_NE(app_group, nullptr);

  const nlohmann::json& ingress = app_group->properties["ingress"];
  ASSERT_EQ(ingress.size(), 2u);
  EXPECT_EQ(ingress[0]["port"], 3000);
  EXPECT_EQ(ingress[0]["source_group"], "sg_load_balancer");
  EXPECT_FALSE(ingress[0].contains("cidr"));
  EXPECT_EQ(ingress[1]["port"], 22);
  EXPECT_EQ(ingress[1]["cidr"], "203.0.113.7/32");
}

TEST(Plan, CertificateAddsHttpsAndRedirect) {
  PlanInputs inputs = web_inputs();
  inputs.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok());

  const ResourceSpec* https = plan->find("listener_https");
  ASSERT_NE(https, nullptr);
  EXPECT_EQ(https->properties["port"], 443);
  EXPECT_EQ(https->properties["ssl_policy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
  EXPECT_EQ(plan->find("listener_http")->properties["action"], "redirect_https");
}

TEST(Plan, CostSumsEstimates) {
  PlanInputs inputs = web_inputs();
  inputs.database = "postgres";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok());

  // t3.micro (0.0104 x 730) + 8 GiB gp3 + public IPv4, ALB with 2 addresses,
  // db.t3.micro postgres (0.018 x 730) + 20 GiB, 1 GiB of logs.
  double expected = (0.0104 * 730 + 8 * 0.08 + 0.005 * 730) + (0.0225 + 0.008 + 0.01) * 730 +
                    (0.018 * 730 + 20 * 0.115) + (0.50 + 0.03);
  EXPECT_NEAR(plan->monthly_usd(), expected, 0.01);
}

TEST(Plan, UnknownRegionFallsBackAndSaysSo) {
  PlanInputs inputs = web_inputs();
  inputs.region = "xx-nowhere-1";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->find("instance")->cost.basis.find("no price data for xx-nowhere-1"), std::string::npos);
}

TEST(Plan, RejectsWebServiceWithoutPort) {
  PlanInputs inputs = web_inputs();
  inputs.app_port = 0;
  Result<Plan> plan = build_plan(inputs);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, "plan.missing_port");
  EXPECT_EQ(plan.error().message, "The app is a web service, but the analysis found no port that it listens on.");
}

TEST(Plan, RejectsWebServiceWithPortOutOfRange) {
  PlanInputs inputs = web_inputs();
  inputs.app_port = 70000;
  Result<Plan> plan = build_plan(inputs);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, "plan.missing_port");
  EXPECT_EQ(plan.error().message, "The app is a web service but its port 70000 is not a valid TCP port.");
}

TEST(Plan, RejectsInvalidSshCidr) {
  for (const char* cidr : {"203.0.113.7", "203.0.113.256/32", "203.0.113.7/33", "a.b.c.d/32"}) {
    PlanInputs inputs = web_inputs();
    inputs.ssh_cidr = cidr;
    Result<Plan> plan = build_plan(inputs);
    ASSERT_FALSE(plan.ok()) << cidr;
    EXPECT_EQ(plan.error().code, "plan.invalid_ssh_cidr") << cidr;
  }
}

TEST(Plan, RejectsReservedTagPrefix) {
  PlanInputs inputs = web_inputs();
  inputs.user_tags["hivemind:deployment"] = "other";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, "plan.reserved_tag");
}

TEST(Plan, TagsNameDeploymentAndUserTags) {
  PlanInputs inputs = web_inputs();
  inputs.user_tags["team"] = "payments";
  Result<Plan> plan = build_plan(inputs);
  ASSERT_TRUE(plan.ok());

  std::map<std::string, std::string> tags = resource_tags(inputs, *plan->find("vpc"));
  EXPECT_EQ(tags["hivemind:deployment"], "hm-shop-k3x9qa");
  EXPECT_EQ(tags["hivemind:app"], "shop");
  EXPECT_EQ(tags["hivemind:resource"], "vpc");
  EXPECT_EQ(tags["Name"], "hm-shop-k3x9qa-vpc");
  EXPECT_EQ(tags["team"], "payments");
}

TEST(BoundedName, KeepsShortNamesAndShortensLongOnes) {
  EXPECT_EQ(bounded_name("hm-shop-k3x9qa", "alb", 32), "hm-shop-k3x9qa-alb");

  std::string long_id = "hm-a-very-long-application-name-k3x9qa";
  std::string name = bounded_name(long_id, "tg", 32);
  EXPECT_LE(name.size(), 32u);
  EXPECT_NE(name.find("k3x9qa-tg"), std::string::npos);
  EXPECT_NE(name, bounded_name("hm-another-very-long-application-name-k3x9qa", "tg", 32));
}

}  // namespace
}  // namespace hivemind::infra
