#pragma once

// Typed STS call: who the configured credentials belong to.

#include <string>

#include "aws/client.h"

namespace hivemind::aws::sts {

struct CallerIdentity {
  std::string account;  // 12-digit account id
  std::string arn;      // e.g. arn:aws:iam::123456789012:user/deployer
  std::string user_id;
};

// Needs no permission: AWS answers it for any valid credentials.
AwsResult<CallerIdentity> get_caller_identity(AwsClient& client);

}  // namespace hivemind::aws::sts
