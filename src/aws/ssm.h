#pragma once

// Typed Systems Manager Parameter Store calls. Values come back as Secret,
// so that a SecureString value cannot reach a log or an error by accident.

#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"
#include "common/secret.h"

namespace hivemind::aws::ssm {

// Public parameter that names the latest Amazon Linux 2023 AMI for x86_64.
inline constexpr const char* kAl2023AmiParameter =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

struct Parameter {
  std::string name;
  std::string type;  // "String", "StringList" or "SecureString"
  Secret value;      // decrypted when read with decryption
  long long version = 0;
  std::string arn;
};

struct PutParameterRequest {
  std::string name;
  Secret value;
  std::string type = "SecureString";
  std::string description;
  bool overwrite = false;
  Tags tags;  // applied when the call creates the parameter
};

// Creates the parameter with its tags; with `overwrite`, replaces the value
// of an existing one instead of failing with ParameterAlreadyExists (AWS
// rejects tags together with Overwrite, so the existing parameter keeps the
// tags it was created with). Returns the new version.
AwsResult<long long> put_parameter(AwsClient& client, const PutParameterRequest& request);
AwsResult<Parameter> get_parameter(AwsClient& client, const std::string& name, bool with_decryption = true);
AwsResult<Unit> delete_parameter(AwsClient& client, const std::string& name);
// Every parameter under `path` ("/hivemind/app/"), including deeper levels
// when `recursive`. `page_size` 0 lets AWS choose (otherwise 1 to 10).
AwsResult<std::vector<Parameter>> get_parameters_by_path(AwsClient& client, const std::string& path, bool recursive,
                                                         bool with_decryption = true, int page_size = 0);

// Returns the id of the latest Amazon Linux 2023 x86_64 AMI in the client's
// region.
AwsResult<std::string> latest_al2023_ami(AwsClient& client);

}  // namespace hivemind::aws::ssm
