#pragma once

// AwsError: every failure of an AWS call, typed, with what the user should do.

#include <string>

#include "common/result.h"

namespace hivemind::aws {

// AwsError codes of the kinds other than kService. Service errors carry AWS's
// own code instead.
inline constexpr const char* kTransportConnectionRefused = "transport.connection_refused";
inline constexpr const char* kTransportDnsFailure = "transport.dns_failure";
inline constexpr const char* kTransportTimeout = "transport.timeout";
inline constexpr const char* kTransportConnectionReset = "transport.connection_reset";
inline constexpr const char* kTransportResponseTooLarge = "transport.response_too_large";
inline constexpr const char* kTransportTls = "transport.tls";
inline constexpr const char* kTransportOther = "transport.failed";
inline constexpr const char* kParseMalformedResponse = "parse.malformed_response";
inline constexpr const char* kCredentialsMissing = "credentials.missing";

enum class ErrorKind {
  kService,      // AWS answered with an error code
  kTransport,    // no response: refused, DNS, timeout, reset, TLS
  kParse,        // a response that is not the XML or JSON the protocol promises
  kCredentials,  // no usable credentials or settings before any call was made
};

struct AwsError {
  ErrorKind kind = ErrorKind::kService;
  std::string service;    // e.g. "ec2"
  std::string operation;  // e.g. "RunInstances"
  std::string code;       // AWS error code, e.g. "UnauthorizedOperation"; for other kinds a HiveMind code
  std::string message;    // AWS's own message, or what the transport or parser reported
  std::string request_id;
  std::string endpoint;  // URL the call was sent to
  int http_status = 0;   // 0 when there was no response
  int attempts = 1;      // how many times the call was sent

  // One plain sentence that says what went wrong, from the table of common
  // codes, falling back to AWS's message.
  std::string explanation() const;
  // The next step for the user: a permission to grant, a limit to raise, a
  // flag to pass. Names the IAM action for a missing permission.
  std::string remediation() const;
  // "ec2:RunInstances" style IAM action of the operation.
  std::string iam_action() const;

  // Converts to the generic error shown by the CLI, with service, operation,
  // code and request id in the message.
  Error to_error() const;
};

template <typename T>
using AwsResult = Result<T, AwsError>;

}  // namespace hivemind::aws
