#pragma once

// AWS Signature Version 4 request signing.

#include <chrono>
#include <string>

#include "aws/credentials.h"
#include "aws/http.h"

namespace hivemind::aws {

struct SigningScope {
  std::string service;  // signing name, e.g. "ec2", "elasticloadbalancing", "logs"
  std::string region;   // e.g. "us-east-1"
  std::chrono::system_clock::time_point time;
};

// Signs `request` in place: adds X-Amz-Date, X-Amz-Security-Token when the
// credentials carry a session token, and Authorization. Host is signed from
// the URL. The result matches botocore's SigV4Auth byte for byte.
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope);

}  // namespace hivemind::aws
