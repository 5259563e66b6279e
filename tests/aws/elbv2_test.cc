// Typed ELBv2 calls against moto_server: an application load balancer with
// its target group, listeners, rules and targets, tagged at creation.

#include "aws/elbv2.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "aws/ec2.h"
#include "aws/ssm.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

// ACM, only to request the certificate an HTTPS listener needs: moto checks
// that the certificate exists.
constexpr ServiceSpec kAcm{"acm", "acm", "acm", "2015-12-08", Protocol::kJson11, "CertificateManager", "acm", "acm"};

class Elbv2Test : public MotoTest {
 protected:
  // A VPC with two subnets in two zones and a security group: what an
  // application load balancer needs.
  void SetUp() override {
    MotoTest::SetUp();
    auto vpc = ec2::create_vpc(client(), "10.40.0.0/16", kTestTags);
    ASSERT_AWS_OK(vpc);
    vpc_id_ = vpc->id;
    auto zones = ec2::describe_availability_zones(client());
    ASSERT_AWS_OK(zones);
    ASSERT_GE(zones->size(), 2u);
    for (int i = 0; i < 2; ++i) {
      std::string cidr = "10.40." + std::to_string(i + 1) + ".0/24";
      auto subnet = ec2::create_subnet(client(), vpc_id_, cidr, (*zones)[static_cast<std::size_t>(i)].name, kTestTags);
      ASSERT_AWS_OK(subnet);
      subnet_ids_.push_back(subnet->id);
    }
    auto group = ec2::create_security_group(client(), "alb", "load balancer", vpc_id_, kTestTags);
    ASSERT_AWS_OK(group);
    group_id_ = *group;
  }

  elbv2::LoadBalancer make_load_balancer(const std::string& name) {
    auto created =
        elbv2::create_load_balancer(client(), {name, subnet_ids_, {group_id_}, "internet-facing", kTestTags});
    EXPECT_AWS_OK(created);
    return created.value_or(elbv2::LoadBalancer{});
  }

  elbv2::TargetGroup make_target_group(const std::string& name) {
    elbv2::CreateTargetGroupRequest request;
    request.name = name;
    request.port = 8080;
    request.vpc_id = vpc_id_;
    request.health_check = {"HTTP", "/healthz", 15, 5, 3, 2, "200-399"};
    request.tags = kTestTags;
    auto created = elbv2::create_target_group(client(), request);
    EXPECT_AWS_OK(created);
    return created.value_or(elbv2::TargetGroup{});
  }

  std::string vpc_id_;
  std::vector<std::string> subnet_ids_;
  std::string group_id_;
};

TEST_F(Elbv2Test, LoadBalancerIsTaggedAtCreation) {
  elbv2::LoadBalancer balancer = make_load_balancer("web");
  ASSERT_FALSE(balancer.arn.empty());
  EXPECT_EQ(balancer.type, "application");
  EXPECT_EQ(balancer.scheme, "internet-facing");
  EXPECT_EQ(balancer.vpc_id, vpc_id_);
  EXPECT_FALSE(balancer.dns_name.empty());
  EXPECT_EQ(balancer.security_group_ids, std::vector<std::string>{group_id_});

  auto tags = elbv2::describe_tags(client(), {balancer.arn});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag((*tags)[balancer.arn], "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(Elbv2Test, DescribeLoadBalancersPagesToTheEnd) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) created.push_back(make_load_balancer("web-" + std::to_string(i)).arn);

  auto described = elbv2::describe_load_balancers(client(), {}, {}, 2);
  ASSERT_AWS_OK(described);
  std::vector<std::string> found;
  for (const elbv2::LoadBalancer& balancer : *described) found.push_back(balancer.arn);
  std::sort(created.begin(), created.end());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, created);
}

TEST_F(Elbv2Test, TargetGroupKeepsHealthCheckSettings) {
  elbv2::TargetGroup group = make_target_group("web-tg");
  ASSERT_FALSE(group.arn.empty());
  ASSERT_AWS_OK(elbv2::set_deregistration_delay(client(), group.arn, 30));

  auto described = elbv2::describe_target_groups(client(), {group.arn});
  ASSERT_AWS_OK(described);
  ASSERT_EQ(described->size(), 1u);
  const elbv2::TargetGroup& found = described->front();
  EXPECT_EQ(found.port, 8080);
  EXPECT_EQ(found.protocol, "HTTP");
  EXPECT_EQ(found.target_type, "instance");
  EXPECT_EQ(found.health_check.path, "/healthz");
  EXPECT_EQ(found.health_check.interval_seconds, 15);
  EXPECT_EQ(found.health_check.timeout_seconds, 5);
  EXPECT_EQ(found.health_check.healthy_threshold, 3);
  EXPECT_EQ(found.health_check.unhealthy_threshold, 2);
  EXPECT_EQ(found.health_check.matcher, "200-399");

  auto attributes = client().query(elbv2_service(), "DescribeTargetGroupAttributes", {{"TargetGroupArn", group.arn}});
  ASSERT_AWS_OK(attributes);
  std::string delay;
  for (pugi::xml_node member : attributes->result.child("Attributes").children("member")) {
    if (calls::text(member, "Key") == "deregistration_delay.timeout_seconds") delay = calls::text(member, "Value");
  }
  EXPECT_EQ(delay, "30");

  auto tags = elbv2::describe_tags(client(), {group.arn});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag((*tags)[group.arn], "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(Elbv2Test, ListenersForwardRedirectAndTerminateTls) {
  elbv2::LoadBalancer balancer = make_load_balancer("web");
  elbv2::TargetGroup group = make_target_group("web-tg");

  auto certificate = client().json(kAcm, "RequestCertificate", {{"DomainName", "app.example.test"}});
  ASSERT_AWS_OK(certificate);
  const std::string certificate_arn = certificate->body.value("CertificateArn", "");
  ASSERT_FALSE(certificate_arn.empty()) << certificate->body.dump();

  elbv2::CreateListenerRequest https;
  https.load_balancer_arn = balancer.arn;
  https.protocol = "HTTPS";
  https.port = 443;
  https.certificate_arn = certificate_arn;
  https.default_action = elbv2::forward_to(group.arn);
  https.tags = kTestTags;
  auto secure = elbv2::create_listener(client(), https);
  ASSERT_AWS_OK(secure);
  EXPECT_EQ(secure->ssl_policy, elbv2::kDefaultSslPolicy);
  EXPECT_EQ(secure->certificate_arn, certificate_arn);

  elbv2::CreateListenerRequest http;
  http.load_balancer_arn = balancer.arn;
  http.default_action = elbv2::redirect_to_https();
  http.tags = kTestTags;
  auto redirect = elbv2::create_listener(client(), http);
  ASSERT_AWS_OK(redirect);
  ASSERT_EQ(redirect->default_actions.size(), 1u);
  EXPECT_EQ(redirect->default_actions.front().type, "redirect");
  EXPECT_EQ(redirect->default_actions.front().redirect_protocol, "HTTPS");
  EXPECT_EQ(redirect->default_actions.front().redirect_port, "443");
  EXPECT_EQ(redirect->default_actions.front().redirect_status_code, "HTTP_301");

  auto listeners = elbv2::describe_listeners(client(), balancer.arn);
  ASSERT_AWS_OK(listeners);
  EXPECT_EQ(listeners->size(), 2u);
  auto tags = elbv2::describe_tags(client(), {secure->arn});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag((*tags)[secure->arn], "hivemind:deployment"), "hm-test-abc123");

  ASSERT_AWS_OK(elbv2::delete_listener(client(), redirect->arn));
  auto remaining = elbv2::describe_listeners(client(), balancer.arn);
  ASSERT_AWS_OK(remaining);
  ASSERT_EQ(remaining->size(), 1u);
  EXPECT_EQ(remaining->front().arn, secure->arn);
}

TEST_F(Elbv2Test, RuleForwardsPathToTargetGroup) {
  elbv2::LoadBalancer balancer = make_load_balancer("web");
  elbv2::TargetGroup group = make_target_group("api-tg");
  elbv2::CreateListenerRequest http;
  http.load_balancer_arn = balancer.arn;
  http.default_action = elbv2::forward_to(group.arn);
  auto listener = elbv2::create_listener(client(), http);
  ASSERT_AWS_OK(listener);

  auto rule = elbv2::create_rule(client(), listener->arn, 10, {{"path-pattern", {"/api/*"}}},
                                 elbv2::forward_to(group.arn), kTestTags);
  ASSERT_AWS_OK(rule);
  EXPECT_EQ(rule->priority, "10");

  auto rules = elbv2::describe_rules(client(), listener->arn);
  ASSERT_AWS_OK(rules);
  auto found =
      std::find_if(rules->begin(), rules->end(), [&](const elbv2::Rule& item) { return item.arn == rule->arn; });
  ASSERT_NE(found, rules->end());
  ASSERT_EQ(found->conditions.size(), 1u);
  EXPECT_EQ(found->conditions.front().field, "path-pattern");
  EXPECT_EQ(found->conditions.front().values, std::vector<std::string>{"/api/*"});
  ASSERT_EQ(found->actions.size(), 1u);
  EXPECT_EQ(found->actions.front().target_group_arn, group.arn);
  EXPECT_TRUE(std::any_of(rules->begin(), rules->end(), [](const elbv2::Rule& item) { return item.is_default; }));

  ASSERT_AWS_OK(elbv2::delete_rule(client(), rule->arn));
  auto after = elbv2::describe_rules(client(), listener->arn);
  ASSERT_AWS_OK(after);
  EXPECT_TRUE(
      std::none_of(after->begin(), after->end(), [&](const elbv2::Rule& item) { return item.arn == rule->arn; }));
}

TEST_F(Elbv2Test, TargetsRegisterAndDeregister) {
  elbv2::TargetGroup group = make_target_group("web-tg");
  auto image = ssm::latest_al2023_ami(client());
  ASSERT_AWS_OK(image);
  ec2::RunInstancesRequest request;
  request.image_id = *image;
  request.instance_type = "t3.micro";
  request.subnet_id = subnet_ids_.front();
  request.client_token = new_client_token();
  auto instance = ec2::run_instance(client(), request);
  ASSERT_AWS_OK(instance);

  ASSERT_AWS_OK(elbv2::register_targets(client(), group.arn, {{instance->id, 0}}));
  auto health = elbv2::describe_target_health(client(), group.arn);
  ASSERT_AWS_OK(health);
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ(health->front().target_id, instance->id);
  EXPECT_EQ(health->front().port, 8080);
  EXPECT_FALSE(health->front().state.empty());

  ASSERT_AWS_OK(elbv2::deregister_targets(client(), group.arn, {{instance->id, 0}}));
  auto after = elbv2::describe_target_health(client(), group.arn);
  ASSERT_AWS_OK(after);
  EXPECT_TRUE(after->empty() || after->front().state == "draining" || after->front().state == "unused");
}

TEST_F(Elbv2Test, AddTagsTagsAnExistingLoadBalancer) {
  elbv2::LoadBalancer balancer = make_load_balancer("web");
  ASSERT_AWS_OK(elbv2::add_tags(client(), {balancer.arn}, {{"hivemind:version", "v2"}}));
  auto tags = elbv2::describe_tags(client(), {balancer.arn});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag((*tags)[balancer.arn], "hivemind:version"), "v2");
  EXPECT_EQ(find_tag((*tags)[balancer.arn], "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(Elbv2Test, DeletedResourcesAreNotFound) {
  elbv2::LoadBalancer balancer = make_load_balancer("web");
  elbv2::TargetGroup group = make_target_group("web-tg");
  ASSERT_AWS_OK(elbv2::delete_load_balancer(client(), balancer.arn));
  ASSERT_AWS_OK(elbv2::delete_target_group(client(), group.arn));

  EXPECT_EQ(code_of(elbv2::describe_load_balancers(client(), {balancer.arn})), "LoadBalancerNotFound");
  EXPECT_EQ(code_of(elbv2::describe_target_groups(client(), {group.arn})), "TargetGroupNotFound");
  EXPECT_EQ(code_of(elbv2::describe_listeners(client(), balancer.arn)), "LoadBalancerNotFound");
}

}  // namespace
}  // namespace hivemind::aws
