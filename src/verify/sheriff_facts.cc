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

    auto volumes = aws::ec2::describe_volumes(client, {}, {aws::Filter{"attachment.instance-id", instance_ids}});
    if (!volumes) return fail(volumes.error());
    snapshot.volumes = std::move(*volumes);

    for (const auto& instance_id : instance_ids) {
      auto user_data = aws::ec2::describe_user_data(client, instance_id);
      if (!user_data) return fail(user_data.error());
      snapshot.texts_to_scan.emplace_back("user data of " + instance_id, std::move(*user_data));
    }
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
  // settings (as Debian 12 does). The secure stage reads
  // `sshd -T` again afterwards, so a host where it does not win still fails
  // the rule. Without systemd (the sandbox), sshd is reloaded by SIGHUP to
  // the pid in the PidFile that `sshd -T` names. Every root command here is
  // one that the sandbox host's sudo rule allows, argument for argument.
  return "set -e\n"
         "as_root() { if [ \"$(id -u)\" -eq 0 ]; then \"$@\"; else sudo -n \"$@\"; fi; }\n"
         "[ -d /etc/ssh/sshd_config.d ] || as_root mkdir -p /etc/ssh/sshd_config.d\n"
         "printf 'PasswordAuthentication no\\nKbdInteractiveAuthentication no\\nPermitEmptyPasswords no\\n' |"
         " as_root tee /etc/ssh/sshd_config.d/00-hivemind.conf >/dev/null\n"
         "as_root sshd -t\n"
         "if [ -d /run/systemd/system ]; then\n"
         "  as_root systemctl reload sshd\n"
         "else\n"
         "  pid_file=$(as_root sshd -T | awk '$1 == \"pidfile\" {print $2}')\n"
         "  as_root pkill -HUP -F \"$pid_file\"\n"
         "fi\n"
         // sshd closes its listening socket and re-executes itself on SIGHUP,
         // so a login right after the reload can be refused. The sleep lets
         // the old socket close before the wait for the new one.
         "sleep 1\n"
         "port=$(as_root sshd -T | awk '$1 == \"port\" {print $2; exit}')\n"
         "command -v ss >/dev/null 2>&1 || exit 0\n"
         "i=0\n"
         "while [ \"$i\" -lt 10 ]; do\n"
         "  ss -Hltn \"sport = :$port\" | grep -q . && exit 0\n"
         "  i=$((i + 1))\n"
         "  sleep 1\n"
         "done\n"
         "echo \"sshd does not listen on port $port 10 s after the reload\" >&2\n"
         "exit 1\n";
}

}  // namespace hivemind::verify
