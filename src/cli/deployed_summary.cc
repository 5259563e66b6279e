#include "cli/deployed_summary.h"

#include <fmt/format.h>

#include "cli/sandbox_url.h"

namespace hivemind::cli {
namespace {

std::string local_url(const nlohmann::json& view, const std::string& state_dir) {
  if (view.value("target", "") != "sandbox" || !view.contains("url")) return {};
  return sandbox_local_url(state_dir, view["url"].get<std::string>());
}

}  // namespace

void add_sandbox_url(nlohmann::json& view, const std::string& state_dir) {
  std::string local = local_url(view, state_dir);
  if (!local.empty()) view["sandbox_url"] = local;
}

void print_deployed(Ui& ui, const nlohmann::json& view, const std::string& state_dir) {
  if (view.contains("url")) {
    std::string url = view["url"].get<std::string>();
    std::string local = local_url(view, state_dir);
    if (local.empty()) {
      ui.info(fmt::format("  URL:          {}", url));
    } else {
      ui.info(fmt::format("  URL:          {} (the sandbox load balancer for {})", local, url));
    }
  }
  if (view.contains("ssh_command")) ui.info(fmt::format("  SSH:          {}", view["ssh_command"].get<std::string>()));
  if (view.contains("monthly_cost_usd")) {
    ui.info(fmt::format("  Monthly cost: about ${:.2f} (estimate)", view["monthly_cost_usd"].get<double>()));
  }
  if (view.contains("report_path")) ui.info(fmt::format("  Report:       {}", view["report_path"].get<std::string>()));
}

}  // namespace hivemind::cli
