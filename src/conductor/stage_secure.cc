// Shawn the Sheriff's stage: turns SSH password logins off on the host,
// collects the facts the security rules need, judges them, stores one result
// per rule, and fails on a violation that the deployment's "allow_rules"
// option does not list. The rules are documented in docs/SECURITY-RULES.md.

#include <fmt/format.h>

#include <filesystem>

#include "common/log.h"
#include "conductor/stages.h"
#include "conductor/verify_targets.h"
#include "verify/sheriff.h"

namespace hivemind::conductor {
namespace {

constexpr const char* kAgent = "Shawn the Sheriff";

void progress(const StageContext& context, std::string text) {
  ConductorEvent event;
  event.kind = ConductorEvent::Kind::kProgress;
  event.stage = state::StageName::secure;
  event.agent = kAgent;
  event.text = std::move(text);
  context.emit(event);
}

std::string physical_id(const StageContext& context, const std::string& logical_name) {
  auto found = find_recorded(context, logical_name);
  return found && found->has_value() ? (*found)->physical_id : std::string();
}

// Every regular file under `folder`, for the secret scan.
void add_files(std::vector<std::filesystem::path>& files, const std::filesystem::path& folder) {
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) files.push_back(it->path());
  }
}

Result<verify::SecuritySnapshot> collect_aws(StageContext& context) {
  std::vector<std::string> groups;
  for (const char* name : {"sg_load_balancer", "sg_app", "sg_database"}) {
    std::string id = physical_id(context, name);
    if (!id.empty()) groups.push_back(id);
  }
  std::string instance = physical_id(context, "instance");
  std::vector<std::string> instances;
  if (!instance.empty()) instances.push_back(instance);

  auto snapshot = verify::collect_aws_facts(*context.client, groups, instances, physical_id(context, "database"));
  if (!snapshot) {
    return fail(make_error(
        "secure.describe_failed",
        fmt::format("{}:{} failed: {}", snapshot.error().service, snapshot.error().operation, snapshot.error().message),
        "Grant ec2:Describe* and rds:DescribeDBInstances, then run `hivemind retry`."));
  }
  snapshot->load_balancer_group_id = physical_id(context, "sg_load_balancer");
  return std::move(*snapshot);
}

// Hardens sshd, then reads its effective configuration. Failures leave the
// sshd rule unchecked and are logged.
void inspect_host(StageContext& context, verify::SecuritySnapshot& snapshot) {
  auto instance = find_recorded(context, "instance");
  if (!instance || !instance->has_value()) return;
  auto session = connect_instance(context, **instance);
  if (!session) {
    log::get("sheriff")->warn("SSH to {} failed, sshd not checked: {}", (*instance)->physical_id,
                              session.error().message);
    return;
  }

  progress(context, "turning SSH password logins off on " + (*instance)->physical_id);
  auto hardened = session->exec(verify::sshd_hardening_script());
  if (!hardened || hardened->exit_status != 0) {
    log::get("sheriff")->warn("hardening sshd on {} failed: {}", (*instance)->physical_id,
                              hardened ? hardened->stderr_text : hardened.error().message);
  }
  auto effective = session->exec(verify::sshd_effective_config_command());
  if (effective && effective->exit_status == 0) snapshot.sshd_effective_config = effective->stdout_text;
}

// Scans logs and reports for secret-looking text, and them and the state
// database for the database password when the deployment has a database.
// The instance's user data was added by collect_aws_facts.
void add_secret_scan(StageContext& context, verify::SecuritySnapshot& snapshot) {
  // SQLite in WAL mode keeps recent writes in state.db-wal until a checkpoint.
  for (const char* name : {"state.db", "state.db-wal"}) {
    std::filesystem::path file = context.state_dir / name;
    if (std::filesystem::exists(file)) snapshot.files_to_scan_for_values.push_back(file);
  }
  add_files(snapshot.files_to_scan, context.paths.logs);
  add_files(snapshot.files_to_scan, context.paths.report);

  auto database = find_recorded(context, "database");
  if (!database || !database->has_value()) return;
  auto password = read_database_password(context, **database);
  if (!password) {
    log::get("sheriff")->warn("the database password was not read, so only patterns are searched: {}",
                              password.error().message);
    return;
  }
  snapshot.secrets.push_back(std::move(*password));
}

std::string describe_outcome(const verify::RuleOutcome& rule) {
  std::string detail = fmt::format("{}: {}", verify::rule_state_name(rule.state), rule.title);
  for (const auto& violation : rule.violations) detail += "\n- " + violation.detail;
  if (!rule.violations.empty()) detail += "\nFix: " + rule.fix;
  if (!rule.note.empty()) detail += "\n" + rule.note;
  return detail;
}

Status store_outcomes(StageContext& context, const verify::SecurityReport& report) {
  for (const auto& rule : report.rules) {
    state::VerificationResult row;
    row.deployment_id = context.deployment.id;
    row.check = "security:" + rule.rule_id;
    row.passed = rule.state != verify::RuleState::kViolated;
    row.detail = describe_outcome(rule);
    row.checked_at = std::chrono::system_clock::now();
    auto stored = context.store->add_verification(row);
    if (!stored) return fail(stored.error());
    progress(context, fmt::format("{} {}", verify::rule_state_name(rule.state), rule.rule_id));
  }
  return ok_unit();
}

}  // namespace

Status run_secure(StageContext& context) {
  progress(context, "describing security groups, the instance and the database");
  auto snapshot = collect_aws(context);
  if (!snapshot) return fail(snapshot.error());
  inspect_host(context, *snapshot);
  add_secret_scan(context, *snapshot);

  verify::SecurityReport report = verify::evaluate(*snapshot, allowed_rules(context));
  Status stored = store_outcomes(context, report);
  if (!stored) return stored;

  std::string violated;
  for (const auto* rule : report.violated()) violated += (violated.empty() ? "" : ", ") + rule->rule_id;
  if (violated.empty()) return ok_unit();
  return fail(make_error("secure.violations", "Security rules violated: " + violated + ".",
                         "Fix each as `hivemind status` shows, or list the rule id under \"allow_rules\" in the "
                         "deployment options to accept it, then run `hivemind retry`."));
}

}  // namespace hivemind::conductor
