#pragma once

// AWS Signature Version 4 request signing.
//
// sign_request() is the entry point. The builders below it are pure functions
// over strings, exposed so that tests can compare each stage (canonical
// request, string to sign, signature) with AWS's published examples and with
// botocore's SigV4Auth. Everything here is thread safe: no shared state.

#include <chrono>
#include <string>
#include <string_view>

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
//
// Signing again (a retry) replaces the Authorization and X-Amz-Date headers of
// the earlier attempt, and its X-Amz-Security-Token when the credentials carry
// one. Headers that are never signed, as in botocore (User-Agent, Expect,
// Connection, Transfer-Encoding and the other hop-by-hop headers), may be
// changed after signing. A caller-set X-Amz-Content-SHA256 header is used as
// the payload hash instead of hashing the body.
// NOTE: a Date header is signed as given; unlike botocore, it is not rewritten
// to the signing time, because HiveMind never sets one.
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope);

// The intermediate values of one signature.
struct SignatureParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header's value
};

// Computes the signature of `request` without changing it. The caller has
// already added X-Amz-Date (and X-Amz-Security-Token) to its headers, as
// sign_request() does before calling this.
SignatureParts compute_signature(const HttpRequest& request, const Credentials& credentials, const SigningScope& scope);

// "20150830T123600Z": the X-Amz-Date form of `time`, in UTC, whole seconds.
std::string format_amz_date(std::chrono::system_clock::time_point time);

// Percent-encodes every byte except the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - _ . ~), and except '/' when `keep_slash` is set. Hex digits
// are upper case.
std::string uri_encode(std::string_view bytes, bool keep_slash);

// Decodes %XX escapes. Other bytes, '+' included, are kept as they are, and so
// is a '%' not followed by two hex digits.
std::string uri_decode(std::string_view text);

// The canonical URI of a path as it goes on the wire (already
// percent-encoded): dot segments and repeated slashes removed, then every byte
// encoded once more except unreserved characters and '/'. Services other than
// S3 expect this double encoding. An empty path is "/".
std::string canonical_uri(std::string_view wire_path);

// The canonical query string of a raw query (the part after '?'): each
// name and value decoded, then re-encoded with uri_encode(), sorted by name
// and then by value, joined with '&'. A name without '=' gets an empty value
// ("flag" becomes "flag="). Empty pairs ("a=1&&b=2") are dropped.
std::string canonical_query_string(std::string_view raw_query);

// The Host header value that SigV4 signs for `url`: the host name in lower
// case, IPv6 literals in brackets, with the port unless it is the scheme's
// default (80 for http, 443 for https). User information is left out.
std::string host_header_for(std::string_view url);

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// The SigV4 signing key: HMAC-SHA256 chained over "AWS4" + secret, the date
// ("20150830"), the region, the service and "aws4_request". Raw 32 bytes.
std::string derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                               std::string_view service);

}  // namespace hivemind::aws
