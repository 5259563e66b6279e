// `hivemind doctor`: shows which AWS account, identity, region and endpoints
// HiveMind would use, and whether the credentials hold every IAM permission
// that HiveMind's AWS calls need.

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/client.h"
#include "aws/curl_transport.h"
#include "aws/iam.h"
#include "aws/permissions.h"
#include "aws/settings.h"
#include "aws/sts.h"
#include "cli/commands.h"
#include "cli/ui.h"

namespace hivemind::cli {
namespace {

namespace permissions = aws::permissions;

// Everything the doctor found, printed as text or JSON.
struct Diagnosis {
  std::string region;
  std::string region_source;
  std::string profile;
  std::string credentials_source;
  aws::sts::CallerIdentity identity;
  std::vector<std::pair<std::string, std::string>> endpoints;  // service label, URL
  permissions::Report report;
};

const char* verdict_name(permissions::Verdict verdict) {
  switch (verdict) {
    case permissions::Verdict::kAllowed:
      return "ok";
    case permissions::Verdict::kMissing:
      return "missing";
    case permissions::Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string method_description(const permissions::Report& report) {
  if (report.method == permissions::Method::kSimulation) return "iam:SimulatePrincipalPolicy for the caller";
  return "probe calls (EC2 DryRun, harmless calls to the other services), because " + report.fallback_reason;
}

// IAM's endpoint: the one configured for it, or IAM's global endpoint where
// the settings fall back to a regional default that IAM does not have.
std::string iam_endpoint(const aws::ClientConfig& config) {
  std::string configured = config.endpoint_for(aws::iam_service());
  if (configured == aws::default_endpoint(aws::iam_service(), config.region)) return aws::iam::kGlobalEndpoint;
  return configured;
}

// A client for IAM: same credentials, signed for us-east-1 where IAM lives.
// NOTE: assumes the aws partition; China and GovCloud sign IAM for their own
// regions.
std::unique_ptr<aws::AwsClient> make_iam_client(const aws::ClientConfig& config,
                                                std::shared_ptr<aws::HttpTransport> transport) {
  aws::ClientConfig iam_config = config;
  std::string endpoint = iam_endpoint(config);
  iam_config.region = "us-east-1";
  iam_config.endpoint_for = [endpoint](const aws::ServiceSpec&) { return endpoint; };
  return std::make_unique<aws::AwsClient>(std::move(iam_config), std::move(transport));
}

std::vector<std::pair<std::string, std::string>> list_endpoints(const aws::ClientConfig& config) {
  std::vector<std::pair<std::string, std::string>> endpoints;
  for (const permissions::ServicePermissions& group : permissions::required_permissions()) {
    endpoints.emplace_back(group.label, config.endpoint_for(*group.service));
  }
  endpoints.emplace_back("STS", config.endpoint_for(aws::sts_service()));
  endpoints.emplace_back("IAM", iam_endpoint(config));
  return endpoints;
}

nlohmann::json to_json(const Diagnosis& diagnosis) {
  nlohmann::json endpoints = nlohmann::json::object();
  for (const auto& [label, url] : diagnosis.endpoints) endpoints[label] = url;

  nlohmann::json checks = nlohmann::json::array();
  nlohmann::json missing = nlohmann::json::array();
  for (const permissions::ActionCheck& check : diagnosis.report.checks) {
    nlohmann::json item{{"service", check.label},
                        {"action", check.action},
                        {"status", verdict_name(check.verdict)},
                        {"detail", check.detail}};
    if (check.verdict == permissions::Verdict::kMissing) {
      item["fix"] = "grant " + check.action;
      missing.push_back(check.action);
    }
    checks.push_back(std::move(item));
  }

  const permissions::Report& report = diagnosis.report;
  return {{"ok", missing.empty()},
          {"account", diagnosis.identity.account},
          {"caller_arn", diagnosis.identity.arn},
          {"region", diagnosis.region},
          {"region_source", diagnosis.region_source},
          {"profile", diagnosis.profile},
          {"credentials_source", diagnosis.credentials_source},
          {"endpoints", endpoints},
          {"permission_check",
           {{"method", report.method == permissions::Method::kSimulation ? "simulation" : "probe"},
            {"fallback_reason", report.fallback_reason}}},
          {"permissions", checks},
          {"missing", missing}};
}

void print_text(const Diagnosis& diagnosis, const Ui& ui) {
  std::cout << fmt::format("Account:      {}\n", diagnosis.identity.account);
  std::cout << fmt::format("Caller:       {}\n", diagnosis.identity.arn);
  std::cout << fmt::format("Region:       {} (from {})\n", diagnosis.region, diagnosis.region_source);
  std::cout << fmt::format("Profile:      {}\n", diagnosis.profile);
  std::cout << fmt::format("Credentials:  {}\n", diagnosis.credentials_source);
  std::cout << "Endpoints:\n";
  for (const auto& [label, url] : diagnosis.endpoints) std::cout << fmt::format("  {:<24} {}\n", label, url);

  const permissions::Report& report = diagnosis.report;
  std::cout << "\nPermissions, checked with " << method_description(report) << ":\n";
  std::string current_label;
  for (const permissions::ActionCheck& check : report.checks) {
    if (check.label != current_label) {
      current_label = check.label;
      std::cout << "  " << ui.paint(current_label, Color::kBold) << "\n";
    }
    switch (check.verdict) {
      case permissions::Verdict::kAllowed:
        std::cout << "    " << ui.paint("ok     ", Color::kGreen) << check.action << "\n";
        break;
      case permissions::Verdict::kMissing:
        std::cout << "    " << ui.paint("missing", Color::kRed) << " " << check.action << "  (" << check.detail
                  << "; fix: grant " << check.action << ")\n";
        break;
      case permissions::Verdict::kUnknown:
        std::cout << "    " << ui.paint("unknown", Color::kYellow) << " " << check.action << "  (" << check.detail
                  << ")\n";
        break;
    }
  }

  int missing = report.count(permissions::Verdict::kMissing);
  int unknown = report.count(permissions::Verdict::kUnknown);
  std::cout << fmt::format("\n{} of {} permissions ok, {} missing, {} could not be checked.\n",
                           report.count(permissions::Verdict::kAllowed), report.checks.size(), missing, unknown);
  if (missing > 0) {
    std::cout << "Grant the missing actions to " << diagnosis.identity.arn
              << " (an IAM policy with these actions on \"*\"), then run hivemind doctor again.\n";
  }
}

// Prints a failure that stopped the doctor before the permission checks.
int report_failure(const Error& error, const GlobalOptions& global, const Ui& ui) {
  if (global.json) {
    nlohmann::json output{{"ok", false},
                          {"error", {{"code", error.code}, {"message", error.message}, {"fix", error.remediation}}}};
    std::cout << output.dump(2) << "\n";
  } else {
    std::cerr << ui.paint("hivemind doctor: ", Color::kRed) << error.describe() << "\n";
  }
  return kExitFailure;
}

int run_doctor(const GlobalOptions& global) {
  Ui ui(!global.no_color, global.json);
  auto transport = std::make_shared<aws::CurlTransport>();

  aws::SettingsOverrides overrides{global.profile, global.region, {}};
  auto settings = aws::resolve_settings(aws::Environment::from_process(), overrides, transport.get());
  if (!settings.ok()) return report_failure(settings.error(), global, ui);

  aws::AwsClient client(settings->client, transport);
  auto identity = aws::sts::get_caller_identity(client);
  if (!identity.ok()) return report_failure(identity.error().to_error(), global, ui);

  Diagnosis diagnosis;
  diagnosis.region = settings->client.region;
  diagnosis.region_source = settings->region_source;
  diagnosis.profile = settings->profile_name;
  diagnosis.credentials_source = settings->client.credentials.source;
  diagnosis.identity = *identity;
  diagnosis.endpoints = list_endpoints(settings->client);

  std::unique_ptr<aws::AwsClient> iam_client = make_iam_client(settings->client, transport);
  diagnosis.report =
      permissions::check_permissions(client, *iam_client, identity->arn, {settings->client.region, identity->account});

  if (global.json) {
    std::cout << to_json(diagnosis).dump(2) << "\n";
  } else {
    print_text(diagnosis, ui);
  }
  return diagnosis.report.count(permissions::Verdict::kMissing) == 0 ? kExitSuccess : kExitFailure;
}

}  // namespace

void add_doctor_command(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand(
      "doctor", "Check the AWS account, caller, region, endpoints and every IAM permission HiveMind needs");
  command->callback([&context] { context.action = [&context] { return run_doctor(context.global); }; });
}

}  // namespace hivemind::cli
