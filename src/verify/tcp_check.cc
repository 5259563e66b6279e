#include <fmt/format.h>
#include <unistd.h>

#include "verify/overwatch.h"
#include "verify/socket_connect.h"

namespace hivemind::verify {

CheckResult check_tcp(const TcpCheck& check) {
  CheckResult result;
  result.name = check.name;

  auto started = std::chrono::steady_clock::now();
  ConnectOutcome outcome = connect_with_timeout(check.host, check.port, check.timeout);
  result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

  if (outcome.fd < 0) {
    result.diagnosis = outcome.diagnosis;
    result.detail = fmt::format("TCP connect to {}:{} failed: {} ({}).", check.host, check.port, outcome.error,
                                diagnosis_name(outcome.diagnosis));
    if (outcome.diagnosis == Diagnosis::kTimedOut) {
      result.detail += " Check the security group and the route to the host.";
    }
    return result;
  }

  close(outcome.fd);
  result.passed = true;
  result.detail =
      fmt::format("TCP connect to {}:{} succeeded in {} ms.", check.host, check.port, result.latency.count());
  return result;
}

}  // namespace hivemind::verify
