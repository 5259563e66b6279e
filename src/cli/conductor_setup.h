#pragma once

// The composition root of the lifecycle commands: picks the target (the
// local sandbox or AWS), builds the AWS client configuration for it, and
// assembles the ConductorSetup with the stages this build has.

#include <string>

#include "cli/options.h"
#include "common/result.h"
#include "conductor/conductor.h"

namespace hivemind::cli {

// The value of --target.
enum class TargetChoice { kAuto, kSandbox, kAws };

// Parses "auto", "sandbox" or "aws"; nullopt for anything else.
std::optional<TargetChoice> parse_target_choice(std::string_view text);

// Where the AWS calls of a command go, and the line printed for the user.
struct ResolvedTarget {
  conductor::Target target = conductor::Target::kAws;
  aws::ClientConfig client_config;
  std::string description;  // "sandbox (moto at http://127.0.0.1:47100)" or "AWS account 1234..., region eu-west-1"
};

// Resolves the target. kAuto picks the sandbox when the sandbox of
// `global.state_dir` is up (its address map exists and its moto process
// runs), otherwise AWS with the credentials, region and endpoints that
// aws::resolve_settings() finds. In sandbox mode every service goes to the
// sandbox's moto with dummy credentials, in us-east-1 unless --region.
// With `look_up_account`, an AWS target calls sts:GetCallerIdentity for the
// account id.
Result<ResolvedTarget> resolve_target(const GlobalOptions& global, TargetChoice choice, bool look_up_account);

// Builds the ConductorSetup: state folder, target, client configuration and
// every stage that conductor::available_stages() returns, and
// conductor::stop_app. On an AWS target whose EC2 endpoint is not an AWS one
// (an emulator such as a test's moto), the deploy, secure and verify stages
// are replaced by a failure and stop_app is left out, because
// the emulator's instance and load balancer addresses are invented and
// must never be connected to; the sandbox maps them to local stand-ins.
conductor::ConductorSetup make_conductor_setup(const GlobalOptions& global, const ResolvedTarget& target,
                                               conductor::ConductorEventSink on_event, std::string command_line);

// Returns whether an endpoint URL's host is AWS's own (*.amazonaws.com,
// *.amazonaws.com.cn or *.api.aws).
bool is_aws_endpoint(std::string_view url);

// Sends the log to <state_dir>/<id>/logs/hivemind.log, or to
// <state_dir>/hivemind.log when `deployment_id` is empty. Debug level with
// --verbose, info otherwise.
void configure_command_log(const GlobalOptions& global, const std::string& deployment_id);

}  // namespace hivemind::cli
