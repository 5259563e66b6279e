// The rules themselves: each judge_* function turns the snapshot into one
// RuleOutcome. The rule list and its fixes are documented in
// docs/SECURITY-RULES.md; keep the two in step.

#include "verify/sheriff.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "verify/secret_patterns.h"

namespace hivemind::verify {
namespace {

bool is_world(const std::string& cidr) { return cidr == "0.0.0.0/0" || cidr == "::/0"; }

bool covers_port(const aws::ec2::IngressRule& rule, int port) {
  if (rule.protocol == "-1") return true;
  return rule.protocol == "tcp" && rule.from_port <= port && port <= rule.to_port;
}

std::string describe_rule(const aws::ec2::IngressRule& rule) {
  if (rule.protocol == "-1") return fmt::format("all traffic from {}", rule.cidr_block);
  return fmt::format("{} {}-{} from {}", rule.protocol, rule.from_port, rule.to_port, rule.cidr_block);
}

// The load balancer may take HTTP and HTTPS from anyone, one port per rule.
bool is_allowed_world_rule(const aws::ec2::SecurityGroup& group, const aws::ec2::IngressRule& rule,
                           const std::string& load_balancer_group_id) {
  if (group.id != load_balancer_group_id || rule.protocol != "tcp" || rule.from_port != rule.to_port) return false;
  return rule.from_port == 80 || rule.from_port == 443;
}

RuleOutcome judge_world_open(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleWorldOpen);
  outcome.title = "No security group open to the world except the load balancer's 80/443";
  outcome.fix = "Revoke the rule, or narrow its source to the load balancer's security group or a /32.";
  for (const auto& group : snapshot.security_groups) {
    for (const auto& rule : group.ingress) {
      if (!is_world(rule.cidr_block) || is_allowed_world_rule(group, rule, snapshot.load_balancer_group_id)) continue;
      outcome.violations.push_back(
          {group.id, fmt::format("{} ({}) allows {}", group.id, group.name, describe_rule(rule))});
    }
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

RuleOutcome judge_ssh_cidr(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleSshCidr);
  outcome.title = "SSH (port 22) only from a single address (/32)";
  outcome.fix = "Pass --ssh-cidr <your address>/32, or revoke the rule.";
  for (const auto& group : snapshot.security_groups) {
    for (const auto& rule : group.ingress) {
      if (rule.cidr_block.empty() || !covers_port(rule, 22)) continue;
      bool single = rule.cidr_block.ends_with("/32") || rule.cidr_block.ends_with("/128");
      if (!single) {
        outcome.violations.push_back(
            {group.id, fmt::format("{} ({}) allows SSH as {}", group.id, group.name, describe_rule(rule))});
      }
    }
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

RuleOutcome judge_database(const SecuritySnapshot& snapshot, std::string_view rule_id) {
  bool encryption = rule_id == kRuleDatabaseEncrypted;
  RuleOutcome outcome;
  outcome.rule_id = std::string(rule_id);
  outcome.title = encryption ? "Database storage encrypted" : "Database not publicly accessible";
  outcome.fix = encryption ? "Recreate the DB instance with StorageEncrypted (restore an encrypted snapshot copy)."
                           : "Run aws rds modify-db-instance --no-publicly-accessible on it.";
  for (const auto& database : snapshot.databases) {
    if (encryption && !database.storage_encrypted) {
      outcome.violations.push_back({database.id, database.id + " has unencrypted storage"});
    }
    if (!encryption && database.publicly_accessible) {
      outcome.violations.push_back({database.id, database.id + " is publicly accessible"});
    }
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  if (snapshot.databases.empty()) outcome.note = "The deployment has no database.";
  return outcome;
}

RuleOutcome judge_imds(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleImdsV2);
  outcome.title = "Instance metadata requires IMDSv2 tokens";
  outcome.fix = "Run aws ec2 modify-instance-metadata-options --http-tokens required on the instance.";
  if (snapshot.instances.empty()) {
    outcome.note = "No instance was described.";
    return outcome;
  }
  for (const auto& instance : snapshot.instances) {
    if (instance.http_tokens != "required") {
      outcome.violations.push_back(
          {instance.id, fmt::format("{} has HttpTokens \"{}\"", instance.id, instance.http_tokens)});
    }
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

RuleOutcome judge_volumes(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleVolumesEncrypted);
  outcome.title = "EBS volumes encrypted";
  outcome.fix =
      "Turn on EBS encryption by default for the region (aws ec2 enable-ebs-encryption-by-default), then replace "
      "the instance.";
  if (!snapshot.volumes) {
    outcome.note = "The instance's volumes were not described.";
    return outcome;
  }
  if (snapshot.volumes->empty()) {
    outcome.note = snapshot.instances.empty() ? "No instance was described." : "No volume is attached.";
    outcome.state = snapshot.instances.empty() ? RuleState::kNotChecked : RuleState::kPassed;
    return outcome;
  }
  for (const auto& volume : *snapshot.volumes) {
    if (volume.encrypted) continue;
    std::string instances;
    for (const auto& id : volume.attached_instance_ids) instances += (instances.empty() ? "" : ", ") + id;
    outcome.violations.push_back({volume.id, fmt::format("{} (attached to {}) is not encrypted", volume.id,
                                                         instances.empty() ? "no instance" : instances)});
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

RuleOutcome judge_sshd(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleSshPassword);
  outcome.title = "SSH password logins off on the host";
  outcome.fix = "Set PasswordAuthentication no and KbdInteractiveAuthentication no in sshd_config and reload sshd.";
  if (!snapshot.sshd_effective_config) {
    outcome.note = "The host's sshd configuration was not read.";
    return outcome;
  }
  std::istringstream lines(*snapshot.sshd_effective_config);
  std::string line;
  while (std::getline(lines, line)) {
    for (const char* setting :
         {"passwordauthentication yes", "kbdinteractiveauthentication yes", "permitemptypasswords yes"}) {
      if (line == setting) outcome.violations.push_back({"sshd", "sshd -T reports \"" + line + "\""});
    }
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

bool contains_secret(const std::string& text, const std::vector<Secret>& secrets) {
  for (const auto& secret : secrets) {
    if (!secret.empty() && text.find(secret.reveal()) != std::string::npos) return true;
  }
  return false;
}

// Adds one violation per finding in `text`. `label` names the place it was
// read from.
void scan_text(RuleOutcome& outcome, const std::string& label, const std::string& text,
               const std::vector<Secret>& secrets, bool patterns) {
  if (contains_secret(text, secrets)) outcome.violations.push_back({label, label + " contains the database password"});
  if (!patterns) return;
  for (const auto& kind : find_secret_patterns(text)) {
    outcome.violations.push_back({label, fmt::format("{} contains what looks like {}", label, kind)});
  }
}

void scan_file(RuleOutcome& outcome, const std::filesystem::path& file, const std::vector<Secret>& secrets,
               bool patterns) {
  std::ifstream input(file, std::ios::binary);
  if (!input) return;
  std::stringstream bytes;
  bytes << input.rdbuf();
  scan_text(outcome, file.string(), bytes.str(), secrets, patterns);
}

RuleOutcome judge_secrets(const SecuritySnapshot& snapshot) {
  RuleOutcome outcome;
  outcome.rule_id = std::string(kRuleNoSecrets);
  outcome.title = "No secret in user data, state, logs or reports";
  outcome.fix =
      "Remove the secret from the file or user data, rotate it (for the database password, put a new SSM "
      "parameter value), and redeploy. Pass secrets to the app through SSM parameters, not literals.";
  if (snapshot.secrets.empty() && snapshot.files_to_scan.empty() && snapshot.texts_to_scan.empty()) {
    outcome.note = "Nothing was collected to scan.";
    return outcome;
  }
  for (const auto& file : snapshot.files_to_scan) scan_file(outcome, file, snapshot.secrets, true);
  for (const auto& file : snapshot.files_to_scan_for_values) scan_file(outcome, file, snapshot.secrets, false);
  for (const auto& [label, text] : snapshot.texts_to_scan) scan_text(outcome, label, text, snapshot.secrets, true);

  if (snapshot.secrets.empty()) {
    outcome.note = "No known secret value was available, so only secret-looking patterns were searched.";
  }
  outcome.state = outcome.violations.empty() ? RuleState::kPassed : RuleState::kViolated;
  return outcome;
}

}  // namespace

bool SecurityReport::passed() const { return violated().empty(); }

std::vector<const RuleOutcome*> SecurityReport::violated() const {
  std::vector<const RuleOutcome*> found;
  for (const auto& rule : rules) {
    if (rule.state == RuleState::kViolated) found.push_back(&rule);
  }
  return found;
}

SecurityReport evaluate(const SecuritySnapshot& snapshot, const std::set<std::string>& allowed_rules) {
  SecurityReport report;
  report.rules = {judge_world_open(snapshot),
                  judge_ssh_cidr(snapshot),
                  judge_database(snapshot, kRuleDatabasePrivate),
                  judge_database(snapshot, kRuleDatabaseEncrypted),
                  judge_imds(snapshot),
                  judge_volumes(snapshot),
                  judge_sshd(snapshot),
                  judge_secrets(snapshot)};
  for (auto& rule : report.rules) {
    if (rule.state == RuleState::kViolated && allowed_rules.contains(rule.rule_id)) rule.state = RuleState::kOverridden;
  }
  return report;
}

std::string_view rule_state_name(RuleState state) {
  switch (state) {
    case RuleState::kPassed:
      return "passed";
    case RuleState::kViolated:
      return "violated";
    case RuleState::kOverridden:
      return "overridden";
    case RuleState::kNotChecked:
      return "not_checked";
  }
  return "unknown";
}

}  // namespace hivemind::verify
