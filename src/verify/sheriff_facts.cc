// Collecting the Sheriff's facts: AWS describe calls, and the scripts that
// read and harden sshd on the host.

#include "verify/sheriff.h"

namespace hivemind::verify {

aws::AwsResult<SecuritySnapshot> collect_aws_facts(aws::AwsClient& client, const std::vector<std::string>& group_ids,
                                                   const std::vector<std::string>& instance_ids,
                                                   const std::string& database_id) {
  SecuritySnapshot snapshot;
  if (!group_ids.empty()) {
    auto groups = aws::ec2::describe_security_groups(client, group_ids);
    if (!groups) return fail(groups.error());
    snapshot.security_groups = std::move(*groups);
  }
  if (!instance_ids.empty()) {
    auto instances = aws::ec2::describe_instances(client, instance_ids);
    if (!instances) return fail(instances.error());
    snapshot.instances = std::move(*instances);
  }
  if (!database_id.empty()) {
    auto databases = aws::rds::describe_db_instances(client, database_id);
    if (!databases) return fail(databases.error());
    snapshot.databases = std::move(*databases);
  }
  return snapshot;
}

std::string sshd_effective_config_command() {
  return "if [ \"$(id -u)\" -eq 0 ]; then sshd -T; else sudo -n sshd -T; fi";
}

std::string sshd_hardening_script() {
  // sshd keeps the first value it reads for a keyword, so the drop-in file
  // wins only where sshd_config includes sshd_config.d/ before its own
  // settings (as Debian 12 does). The secure stage reads `sshd -T` again
  // afterwards, so a host where it does not win still fails the rule.
  return "set -e\n"
         "as_root() { if [ \"$(id -u)\" -eq 0 ]; then \"$@\"; else sudo -n \"$@\"; fi; }\n"
         "as_root mkdir -p /etc/ssh/sshd_config.d\n"
         "printf 'PasswordAuthentication no\\nKbdInteractiveAuthentication no\\nPermitEmptyPasswords no\\n' |"
         " as_root tee /etc/ssh/sshd_config.d/00-hivemind.conf >/dev/null\n"
         "as_root sshd -t\n"
         "as_root systemctl reload sshd 2>/dev/null || as_root kill -HUP \"$(cat /run/sshd.pid)\"\n";
}

}  // namespace hivemind::verify
