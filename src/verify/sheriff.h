#pragma once

// Shawn the Sheriff: checks a deployment against the rules listed in
// docs/SECURITY-RULES.md. Collecting the facts (AWS describe calls, `sshd -T`
// over SSH, the files to scan) is separate from judging them: evaluate() is
// a pure function of a SecuritySnapshot, so every rule is tested on plain data.
// Thread safety: plain data and free functions; no shared state.

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"
#include "aws/ec2.h"
#include "aws/error.h"
#include "aws/rds.h"
#include "common/secret.h"

namespace hivemind::verify {

// Rule ids, as listed in docs/SECURITY-RULES.md and accepted in "allow_rules".
inline constexpr std::string_view kRuleWorldOpen = "sg-world-open";
inline constexpr std::string_view kRuleSshCidr = "ssh-single-address";
inline constexpr std::string_view kRuleDatabasePrivate = "rds-not-public";
inline constexpr std::string_view kRuleDatabaseEncrypted = "rds-encrypted";
inline constexpr std::string_view kRuleImdsV2 = "ec2-imdsv2";
inline constexpr std::string_view kRuleVolumesEncrypted = "ebs-encrypted";
inline constexpr std::string_view kRuleSshPassword = "ssh-no-password";
inline constexpr std::string_view kRuleNoSecrets = "no-secrets-at-rest";

struct Violation {
  std::string resource;  // e.g. "sg-0abc", "/var/lib/hivemind/state.db"
  std::string detail;    // what is wrong, with the value found
};

enum class RuleState {
  kPassed,
  kViolated,
  kOverridden,  // violated, but listed in the deployment's allow_rules
  kNotChecked,  // a fact it needs was not available, and `note` names it
};

struct RuleOutcome {
  std::string rule_id;
  std::string title;
  RuleState state = RuleState::kNotChecked;
  std::vector<Violation> violations;
  std::string fix;   // what to change, shown with each violation
  std::string note;  // for kNotChecked: which fact was missing
};

// The facts the rules are judged on. An absent optional means "not
// collected", which makes its rule kNotChecked rather than passed.
struct SecuritySnapshot {
  std::vector<aws::ec2::SecurityGroup> security_groups;
  std::string load_balancer_group_id;  // the one group allowed 80/443 from the world
  std::vector<aws::ec2::Instance> instances;
  // The volumes attached to `instances`, absent when they were not described.
  std::optional<std::vector<aws::ec2::Volume>> volumes;
  std::vector<aws::rds::DbInstance> databases;
  // The output of `sshd -T` on the host: one lowercase "key value" per line.
  std::optional<std::string> sshd_effective_config;
  // Files scanned for the secret values and for secret-looking text (logs,
  // reports).
  std::vector<std::filesystem::path> files_to_scan;
  // Files scanned for the secret values only. The state database belongs
  // here because it quotes the repository's own example settings (such as a
  // local development DATABASE_URL) as analysis evidence.
  std::vector<std::filesystem::path> files_to_scan_for_values;
  // Texts scanned as well, each with a label (e.g. the instance's user data).
  std::vector<std::pair<std::string, std::string>> texts_to_scan;
  std::vector<Secret> secrets;  // values that must appear nowhere, e.g. the DB password
};

struct SecurityReport {
  std::vector<RuleOutcome> rules;

  // True when no rule is kViolated (overridden and unchecked rules pass).
  bool passed() const;
  std::vector<const RuleOutcome*> violated() const;
};

// Judges the snapshot against every rule; rules in `allowed_rules` report
// kOverridden instead of kViolated.
SecurityReport evaluate(const SecuritySnapshot& snapshot, const std::set<std::string>& allowed_rules);

// Describes the given security groups, instances (with their volumes and
// user data, which goes into texts_to_scan) and DB instances into a
// snapshot. Empty lists and ids are skipped.
aws::AwsResult<SecuritySnapshot> collect_aws_facts(aws::AwsClient& client, const std::vector<std::string>& group_ids,
                                                   const std::vector<std::string>& instance_ids,
                                                   const std::string& database_id);

// Returns the shell command that prints sshd's effective configuration, as
// root or through `sudo -n`.
std::string sshd_effective_config_command();
// Returns the shell script that turns SSH password logins off with a drop-in
// file, checks the configuration with `sshd -t`, and reloads sshd.
std::string sshd_hardening_script();

std::string_view rule_state_name(RuleState state);

}  // namespace hivemind::verify
