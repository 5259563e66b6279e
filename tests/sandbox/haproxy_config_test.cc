#include "sandbox/haproxy_config.h"

#include <gtest/gtest.h>

namespace hivemind::sandbox {
namespace {

TEST(HaproxyConfigTest, RendersFrontendsBackendsAndChecks) {
  ProxyConfig config;
  config.stats_socket = "/state/sandbox/haproxy/stats.sock";
  config.frontends.push_back(ProxyFrontend{"web", 80, 47210, "web-blue"});
  config.frontends.push_back(ProxyFrontend{"web", 8443, 47211, ""});
  HealthCheckSpec check;
  check.path = "/health";
  check.interval_seconds = 5;
  check.timeout_seconds = 2;
  check.healthy_threshold = 2;
  check.unhealthy_threshold = 3;
  check.matcher = "200,204";
  config.backends.push_back(
      ProxyBackend{"web-blue", check, {{"i-aaaa1111", "198.18.0.10", 8080}, {"i-bbbb2222", "198.18.0.11", 8080}}});

  std::string expected =
      "global\n"
      "  stats socket /state/sandbox/haproxy/stats.sock mode 600 level admin\n"
      "  maxconn 1024\n"
      "\n"
      "defaults\n"
      "  mode http\n"
      "  option httplog\n"
      "  timeout connect 5s\n"
      "  timeout client 60s\n"
      "  timeout server 60s\n"
      "\n"
      "frontend lb-web-80\n"
      "  bind 127.0.0.1:47210\n"
      "  default_backend tg-web-blue\n"
      "\n"
      "frontend lb-web-8443\n"
      "  bind 127.0.0.1:47211\n"
      "  http-request return status 503\n"
      "\n"
      "backend tg-web-blue\n"
      "  option httpchk\n"
      "  http-check send meth GET uri /health\n"
      "  http-check expect rstatus ^(200|204)$\n"
      "  timeout check 2s\n"
      "  default-server inter 5s rise 2 fall 3\n"
      "  server i-aaaa1111 198.18.0.10:8080 check\n"
      "  server i-bbbb2222 198.18.0.11:8080 check\n";
  EXPECT_EQ(render_haproxy_config(config), expected);
}

TEST(HaproxyConfigTest, HealthCheckOnOtherPort) {
  ProxyConfig config;
  config.stats_socket = "/s.sock";
  HealthCheckSpec check;
  check.port = "9000";
  config.backends.push_back(ProxyBackend{"api", check, {{"i-1", "198.18.0.12", 3000}}});

  std::string text = render_haproxy_config(config);

  EXPECT_NE(text.find("  server i-1 198.18.0.12:3000 check port 9000\n"), std::string::npos);
  EXPECT_NE(text.find("  default-server inter 30s rise 5 fall 2\n"), std::string::npos);
}

TEST(HaproxyConfigTest, BackendWithoutTargetsHasNoServers) {
  ProxyConfig config;
  config.stats_socket = "/s.sock";
  config.backends.push_back(ProxyBackend{"empty", HealthCheckSpec{}, {}});

  std::string text = render_haproxy_config(config);

  EXPECT_NE(text.find("backend tg-empty\n"), std::string::npos);
  EXPECT_EQ(text.find("  server "), std::string::npos);
}

TEST(HaproxyConfigTest, MatcherBecomesStatusRegex) {
  EXPECT_EQ(matcher_to_status_regex("200"), "^(200)$");
  EXPECT_EQ(matcher_to_status_regex("200,302"), "^(200|302)$");
  EXPECT_EQ(matcher_to_status_regex("200-203"), "^(200|201|202|203)$");
  EXPECT_EQ(matcher_to_status_regex(" 200 , 301-302"), "^(200|301|302)$");
}

}  // namespace
}  // namespace hivemind::sandbox
