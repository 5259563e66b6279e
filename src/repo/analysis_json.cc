// The JSON form of an Analysis. docs/analysis.md documents every field; keep
// the two in step and raise kAnalysisSchemaVersion on a breaking change.

#include <nlohmann/json.hpp>

#include "repo/analysis.h"

namespace hivemind::repo {
namespace {

using nlohmann::ordered_json;

ordered_json evidence_json(const Evidence& evidence) {
  ordered_json out;
  out["file"] = evidence.file;
  out["line"] = evidence.line;
  out["detail"] = evidence.detail;
  return out;
}

template <typename T>
ordered_json finding_json(const Finding<T>& finding) {
  ordered_json out;
  out["value"] = finding.value;
  out["origin"] = origin_name(finding.origin);
  out["evidence"] = evidence_json(finding.evidence);
  return out;
}

template <typename T>
ordered_json optional_json(const std::optional<Finding<T>>& finding) {
  return finding ? finding_json(*finding) : ordered_json(nullptr);
}

ordered_json evidence_list(const std::vector<Evidence>& list) {
  ordered_json out = ordered_json::array();
  for (const Evidence& evidence : list) out.push_back(evidence_json(evidence));
  return out;
}

ordered_json apps_json(const std::vector<AppLocation>& apps) {
  ordered_json out = ordered_json::array();
  for (const AppLocation& app : apps) {
    out.push_back({{"dir", app.dir}, {"language", app.language}, {"manifest", app.manifest}});
  }
  return out;
}

void add_findings(const Analysis& analysis, ordered_json& out) {
  out["language"] = finding_json(analysis.language);
  out["runtime_version"] = optional_json(analysis.runtime_version);
  out["framework"] = optional_json(analysis.framework);
  out["package_manager"] = optional_json(analysis.package_manager);
  out["lockfile"] = optional_json(analysis.lockfile);
  out["dockerfile"] = optional_json(analysis.dockerfile);
  out["install_command"] = optional_json(analysis.install_command);
  out["build_command"] = optional_json(analysis.build_command);
  out["start_command"] = optional_json(analysis.start_command);

  out["ports"] = ordered_json::array();
  for (const Finding<int>& port : analysis.ports) out["ports"].push_back(finding_json(port));
  out["web_service"] = finding_json(analysis.web_service);

  out["services"] = ordered_json::array();
  for (const BackingService& service : analysis.services) {
    out["services"].push_back({{"kind", service_name(service.kind)},
                               {"origin", origin_name(service.origin)},
                               {"evidence", evidence_list(service.evidence)}});
  }

  out["env_vars"] = ordered_json::array();
  for (const EnvVar& variable : analysis.env_vars) {
    out["env_vars"].push_back({{"name", variable.name},
                               {"required", variable.required},
                               {"default", variable.default_value},
                               {"origin", origin_name(variable.origin)},
                               {"evidence", evidence_list(variable.evidence)}});
  }

  out["health_check_path"] = finding_json(analysis.health_check_path);
  out["hints"] = ordered_json::array();
  for (const DeploymentHint& hint : analysis.hints) {
    out["hints"].push_back({{"kind", hint.kind}, {"value", hint.value}, {"evidence", evidence_json(hint.evidence)}});
  }
}

}  // namespace

std::string analysis_to_json(const Analysis& analysis) {
  ordered_json out;
  out["schema_version"] = kAnalysisSchemaVersion;
  out["app_dir"] = analysis.app_dir;
  out["needs_app_choice"] = analysis.needs_app_choice();
  out["apps"] = apps_json(analysis.apps);
  if (!analysis.needs_app_choice()) add_findings(analysis, out);
  return out.dump(2) + "\n";
}

}  // namespace hivemind::repo
