#include "aws/error.h"

#include <array>
#include <string_view>

#include "aws/client.h"
#include "aws/retry.h"

namespace hivemind::aws {
namespace {

// One row of the table of common failures. In both texts {action} becomes
// the IAM action ("ec2:RunInstances"), {service} and {operation} the call,
// {endpoint} the URL, {attempts} the number of sends and {message} AWS's own
// message.
struct KnownError {
  std::string_view code;
  std::string_view explanation;
  std::string_view remediation;
};

constexpr auto kPermissionRemedy =
    "Grant {action} to the IAM user or role that HiveMind runs as, then run the command again.";
constexpr auto kCredentialsRemedy =
    "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile in ~/.aws/credentials, and replace the key if "
    "it was deleted or rotated.";

constexpr std::array<KnownError, 29> kKnownErrors = {{
    {"AccessDenied", "The AWS identity is not allowed to call {action}.", kPermissionRemedy},
    {"AccessDeniedException", "The AWS identity is not allowed to call {action}.", kPermissionRemedy},
    {"UnauthorizedOperation", "The AWS identity is not allowed to call {action}.",
     "Grant {action} to the IAM user or role that HiveMind runs as. If AWS's message carries an encoded "
     "authorization failure, `aws sts decode-authorization-message` shows which policy denied it."},
    {"AuthFailure", "AWS could not validate the credentials that signed the request.",
     "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile in ~/.aws/credentials, and that the system "
     "clock is correct."},
    {"InvalidClientTokenId", "AWS does not know the access key ID that signed the request.", kCredentialsRemedy},
    {"SignatureDoesNotMatch",
     "AWS rejected the request signature, so the secret access key does not match the "
     "access key ID.",
     "Check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key, and that the system clock is correct."},
    {"ExpiredToken", "The session token of the temporary credentials has expired.",
     "Renew the credentials (for example `aws sso login`, or assume the role again), then run the command again."},
    {"ExpiredTokenException", "The session token of the temporary credentials has expired.",
     "Renew the credentials (for example `aws sso login`, or assume the role again), then run the command again."},
    {"credentials.expired", "The temporary credentials expired and HiveMind could not renew them.",
     "Check that the source named above serves new credentials (on EC2, that the instance still has its IAM role "
     "and its metadata service answers). Then run the command again, or `hivemind retry <id>` for a failed "
     "deployment."},
    {"RequestExpired",
     "AWS rejected the request because its time stamp is too far from AWS's clock, or its "
     "temporary credentials have expired.",
     "Synchronize the system clock (chrony or systemd-timesyncd) and renew temporary credentials."},
    {"OptInRequired", "The account is not subscribed to {service} in this region, or the region is not enabled.",
     "Enable the region in the AWS console under Account, or choose an enabled region with --region."},
    {"VcpuLimitExceeded", "The account's vCPU quota for this instance family in this region is used up.",
     "Request a higher \"Running On-Demand instances\" quota in Service Quotas, or choose a smaller instance type."},
    {"InstanceLimitExceeded", "The account's instance quota in this region is used up.",
     "Terminate unused instances or request a higher quota in Service Quotas."},
    {"AddressLimitExceeded", "The account's Elastic IP address quota in this region is used up.",
     "Release unused Elastic IP addresses or request a higher quota in Service Quotas."},
    {"VpcLimitExceeded", "The account's VPC quota in this region is used up.",
     "Destroy deployments that are no longer needed (`hivemind destroy`), delete unused VPCs, or request a higher "
     "quota in Service Quotas."},
    {"InsufficientInstanceCapacity",
     "AWS has no capacity for this instance type in the requested Availability Zone right now.",
     "Run the command again later, or choose another instance type or Availability Zone."},
    {"DependencyViolation", "The resource cannot be deleted because other resources still depend on it: {message}",
     "Delete the dependent resources first (instances, network interfaces, subnets, gateways), then retry."},
    {"InvalidParameterValue", "AWS rejected a parameter value of {operation}: {message}",
     "Correct the value named in the message and run the command again."},
    {"InvalidParameterCombination", "The parameters of {operation} do not work together: {message}",
     "Remove or change one of the conflicting parameters named in the message."},
    {"DBInstanceAlreadyExists", "A database instance with this identifier already exists in this account and region.",
     "Choose another identifier, or delete the existing instance if nothing uses it."},
    {"DBInstanceNotFound", "The database instance does not exist in this account and region.",
     "Check the identifier and the region; the instance may have been deleted already."},
    {"DBInstanceNotFoundFault", "The database instance does not exist in this account and region.",
     "Check the identifier and the region; the instance may have been deleted already."},
    {"Throttling", "AWS throttled {action} and still did after {attempts} attempts.",
     "Wait a minute and run the command again. If it keeps happening, other tools may be calling the same API in "
     "this account."},
    {"InvalidAMIID.NotFound", "The AMI does not exist in this region or is not shared with the account: {message}",
     "Check the AMI id and the region, because AMI ids differ per region."},
    {"InvalidKeyPair.Duplicate", "A key pair with this name already exists in this region.",
     "Import the key under another name, or delete the existing key pair if no instance uses it."},
    {kTransportConnectionRefused, "Nothing accepted the connection to {endpoint}.",
     "Check AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>: if they point at the sandbox or a moto_server, start "
     "it; otherwise unset them to reach AWS."},
    {kTransportDnsFailure, "The host name in {endpoint} did not resolve.",
     "Check the region, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, and the machine's DNS settings."},
    {kTransportTimeout, "{endpoint} did not answer in time after {attempts} attempts.",
     "Check the network path to the endpoint (firewall, proxy, VPN); if the endpoint is a local emulator, check that "
     "it is running and not stopped."},
    {kTransportTls, "The TLS connection to {endpoint} failed.",
     "Check the system CA certificates (package ca-certificates), any proxy that intercepts TLS, and the URL scheme: "
     "a local emulator is usually http://."},
}};

// Explanations for codes outside the table, by kind.
constexpr KnownError kResetError{kTransportConnectionReset,
                                 "The connection to {endpoint} closed before the whole response arrived.",
                                 "This is usually transient, so run the command again."};
constexpr KnownError kTooLargeError{kTransportResponseTooLarge,
                                    "The response of {operation} from {endpoint} was larger than the size limit.",
                                    "Narrow the request with filters or a smaller page size."};
constexpr KnownError kOtherTransportError{kTransportOther, "The request to {endpoint} failed: {message}",
                                          "Check the network path to the endpoint and run the command again."};
constexpr KnownError kParseError{
    kParseMalformedResponse, "{service} {operation} returned a response that is not valid AWS output: {message}",
    "If AWS_ENDPOINT_URL points at a proxy or an emulator, check that it forwards AWS responses unchanged."};

const KnownError* find_throttling() {
  for (const KnownError& known : kKnownErrors) {
    if (known.code == "Throttling") return &known;
  }
  return nullptr;
}

const KnownError* find_known(const AwsError& error) {
  for (const KnownError& known : kKnownErrors) {
    if (known.code == error.code) return &known;
  }
  // Every throttling code reads the same to the user.
  if (is_throttling_code(error.code)) return find_throttling();
  if (error.code == kTransportConnectionReset) return &kResetError;
  if (error.code == kTransportResponseTooLarge) return &kTooLargeError;
  if (error.kind == ErrorKind::kTransport) return &kOtherTransportError;
  if (error.kind == ErrorKind::kParse) return &kParseError;
  return nullptr;
}

void replace_all(std::string& text, std::string_view placeholder, std::string_view value) {
  for (std::size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

std::string fill(std::string_view pattern, const AwsError& error) {
  std::string text(pattern);
  replace_all(text, "{action}", error.iam_action());
  replace_all(text, "{service}", error.service);
  replace_all(text, "{operation}", error.operation);
  replace_all(text, "{endpoint}", error.endpoint.empty() ? "the AWS endpoint" : error.endpoint);
  replace_all(text, "{attempts}", std::to_string(error.attempts));
  replace_all(text, "{message}", error.message);
  return text;
}

}  // namespace

std::string AwsError::iam_action() const {
  const ServiceSpec* spec = find_service(service);
  const std::string prefix = spec != nullptr ? std::string(spec->iam_prefix) : service;
  return prefix + ":" + operation;
}

std::string AwsError::explanation() const {
  if (const KnownError* known = find_known(*this)) return fill(known->explanation, *this);
  if (!message.empty()) return message;
  return service + " " + operation + " failed with " + code + ".";
}

std::string AwsError::remediation() const {
  if (const KnownError* known = find_known(*this)) return fill(known->remediation, *this);
  if (kind == ErrorKind::kService && !request_id.empty()) {
    return "Check AWS's message above; quote request id " + request_id + " if you contact AWS Support.";
  }
  return "Check AWS's message above and run the command again.";
}

Error AwsError::to_error() const {
  std::string text = service + " " + operation + " failed: " + explanation();

  // AWS's own words add detail that the table sentence leaves out, unless the
  // sentence quotes them already.
  if (!message.empty() && text.find(message) == std::string::npos) text += " AWS message: " + message;

  text += " [code " + code;
  if (http_status != 0) text += ", HTTP " + std::to_string(http_status);
  if (!request_id.empty()) text += ", request id " + request_id;
  if (attempts > 1) text += ", " + std::to_string(attempts) + " attempts";
  text += "]";

  return make_error("aws." + code, std::move(text), remediation());
}

}  // namespace hivemind::aws
