#include "sandbox/haproxy_config.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace hivemind::sandbox {
namespace {

// Appends every status code of "200" or "200-299" to `codes`.
void append_codes(const std::string& part, std::vector<std::string>& codes) {
  std::size_t dash = part.find('-');
  if (dash == std::string::npos) {
    codes.push_back(part);
    return;
  }
  int first = std::stoi(part.substr(0, dash));
  int last = std::stoi(part.substr(dash + 1));
  for (int code = first; code <= last; ++code) codes.push_back(std::to_string(code));
}

void render_global(const ProxyConfig& config, std::string& out) {
  out += "global\n";
  out += fmt::format("  stats socket {} mode 600 level admin\n", config.stats_socket);
  out += "  maxconn 1024\n";
  out += "\n";
  out += "defaults\n";
  out += "  mode http\n";
  out += "  option httplog\n";
  out += "  timeout connect 5s\n";
  out += "  timeout client 60s\n";
  out += "  timeout server 60s\n";
}

void render_frontend(const ProxyFrontend& frontend, std::string& out) {
  out += "\n";
  out += fmt::format("frontend lb-{}-{}\n", frontend.load_balancer_name, frontend.listener_port);
  out += fmt::format("  bind 127.0.0.1:{}\n", frontend.local_port);
  if (!frontend.target_group_name.empty()) {
    out += fmt::format("  default_backend {}\n", backend_name(frontend.target_group_name));
  } else {
    out += "  http-request return status 503\n";
  }
}

void render_backend(const ProxyBackend& backend, std::string& out) {
  const HealthCheckSpec& check = backend.health_check;
  out += "\n";
  out += fmt::format("backend {}\n", backend_name(backend.target_group_name));
  out += "  option httpchk\n";
  out += fmt::format("  http-check send meth GET uri {}\n", check.path);
  out += fmt::format("  http-check expect rstatus {}\n", matcher_to_status_regex(check.matcher));
  out += fmt::format("  timeout check {}s\n", check.timeout_seconds);
  out += fmt::format("  default-server inter {}s rise {} fall {}\n", check.interval_seconds, check.healthy_threshold,
                     check.unhealthy_threshold);
  std::string check_port;
  if (check.port != "traffic-port" && !check.port.empty()) check_port = " port " + check.port;
  for (const ProxyTarget& target : backend.targets) {
    out += fmt::format("  server {} {}:{} check{}\n", target.instance_id, target.address, target.port, check_port);
  }
}

}  // namespace

std::string backend_name(const std::string& target_group_name) { return "tg-" + target_group_name; }

std::string matcher_to_status_regex(const std::string& matcher) {
  std::vector<std::string> codes;
  for (const std::string& part : split(matcher, ',')) {
    std::string trimmed = trim(part);
    if (!trimmed.empty()) append_codes(trimmed, codes);
  }
  std::string alternatives;
  for (const std::string& code : codes) {
    if (!alternatives.empty()) alternatives += '|';
    alternatives += code;
  }
  return "^(" + alternatives + ")$";
}

std::string render_haproxy_config(const ProxyConfig& config) {
  std::string out;
  render_global(config, out);
  for (const ProxyFrontend& frontend : config.frontends) render_frontend(frontend, out);
  for (const ProxyBackend& backend : config.backends) render_backend(backend, out);
  return out;
}

}  // namespace hivemind::sandbox
