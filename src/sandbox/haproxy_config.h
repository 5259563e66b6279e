#pragma once

// Builds the haproxy configuration that stands in for the ELBv2 load
// balancers in moto: one frontend per listener on 127.0.0.1 and one backend
// per target group, with the target group's active health check. A pure
// function of plain data, so that it is tested as exact text.

#include <cstdint>
#include <string>
#include <vector>

namespace hivemind::sandbox {

// A target group's health check, with ELBv2's defaults for HTTP.
struct HealthCheckSpec {
  std::string path = "/";
  std::string port = "traffic-port";  // or a port number as text
  int interval_seconds = 30;
  int timeout_seconds = 5;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
  std::string matcher = "200";  // ELBv2 HttpCode: "200", "200,302" or "200-299"
};

struct ProxyTarget {
  std::string instance_id;
  std::string address;  // the host's sandbox address
  std::uint16_t port = 0;
};

struct ProxyBackend {
  std::string target_group_name;
  HealthCheckSpec health_check;
  std::vector<ProxyTarget> targets;
};

struct ProxyFrontend {
  std::string load_balancer_name;
  std::uint16_t listener_port = 0;  // the port on the load balancer in moto
  std::uint16_t local_port = 0;     // the port haproxy binds on 127.0.0.1
  std::string target_group_name;    // the listener's default forward action; empty: answers 503
};

struct ProxyConfig {
  std::string stats_socket;  // absolute path of haproxy's admin socket
  std::vector<ProxyFrontend> frontends;
  std::vector<ProxyBackend> backends;
};

// Returns haproxy's configuration text for `config`.
std::string render_haproxy_config(const ProxyConfig& config);

// Returns haproxy's name for the backend of a target group ("tg-<name>").
std::string backend_name(const std::string& target_group_name);

// Converts an ELBv2 success-code matcher into an anchored regular expression
// for haproxy's `http-check expect rstatus`: "200,302" -> "^(200|302)$".
std::string matcher_to_status_regex(const std::string& matcher);

}  // namespace hivemind::sandbox
