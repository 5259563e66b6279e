#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace hivemind::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kHexDigits = "0123456789abcdef";

// Headers that botocore's SigV4Auth leaves out of the signature, because
// proxies and HTTP clients may add, drop or rewrite them on the way.
constexpr std::array<std::string_view, 11> kUnsignedHeaders = {
    "connection",        "expect",  "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
};

// The parts of an absolute URL that signing needs.
struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // lower case, IPv6 literals without brackets
  bool ipv6 = false;
  std::string port;  // empty when the URL gives none
  std::string_view path;
  std::string_view query;
};

UrlParts split_url(std::string_view url) {
  UrlParts parts;
  size_t scheme_end = url.find("://");
  size_t authority_start = 0;
  if (scheme_end != std::string_view::npos) {
    parts.scheme = to_lower(url.substr(0, scheme_end));
    authority_start = scheme_end + 3;
  }

  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);

  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    host = authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    parts.ipv6 = true;
    if (close != std::string_view::npos && close + 1 < authority.size() && authority[close + 1] == ':') {
      parts.port = std::string(authority.substr(close + 2));
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    parts.port = std::string(authority.substr(colon + 1));
  }
  parts.host = to_lower(host);

  std::string_view rest = url.substr(authority_end);
  rest = rest.substr(0, rest.find('#'));
  size_t question = rest.find('?');
  parts.path = rest.substr(0, question);
  if (question != std::string_view::npos) parts.query = rest.substr(question + 1);
  return parts;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(std::string_view bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kHexDigits[c >> 4]);
    hex.push_back(kHexDigits[c & 0x0f]);
  }
  return hex;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// Removes "." and ".." segments (RFC 3986, section 5.2.4) and empty segments,
// keeping a leading and a trailing slash, as botocore does before encoding.
std::string remove_dot_segments(std::string_view path) {
  if (path.empty()) return {};

  std::vector<std::string> segments;
  for (const std::string& segment : split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }

  std::string normalized = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized += '/';
    normalized += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) normalized += '/';
  return normalized;
}

// Replaces each run of spaces and tabs (and other ASCII white space) with one
// space and trims both ends: SigV4's Trimall.
std::string collapse_spaces(std::string_view value) {
  std::string collapsed;
  collapsed.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    if (space) {
      pending_space = !collapsed.empty();
      continue;
    }
    if (pending_space) collapsed.push_back(' ');
    pending_space = false;
    collapsed.push_back(c);
  }
  return collapsed;
}

bool is_unsigned_header(std::string_view lower_name) {
  return std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), lower_name) != kUnsignedHeaders.end();
}

// Signed header names (lower case, sorted) with their values, each name's
// values trimmed and joined with ',' in request order.
std::map<std::string, std::string> canonical_header_map(const HttpRequest& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = to_lower(name);
    if (is_unsigned_header(lower)) continue;
    auto [entry, inserted] = headers.try_emplace(std::move(lower), collapse_spaces(value));
    if (!inserted) entry->second += "," + collapse_spaces(value);
  }
  if (!headers.contains("host")) headers.emplace("host", host_header_for(request.url));
  return headers;
}

const std::string* find_header(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

void remove_header(HttpRequest& request, std::string_view name) {
  std::erase_if(request.headers, [&](const auto& header) { return iequals(header.first, name); });
}

std::string credential_scope(const SigningScope& scope, std::string_view date) {
  std::string result(date);
  result += '/';
  result += scope.region;
  result += '/';
  result += scope.service;
  result += "/aws4_request";
  return result;
}

}  // namespace

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string uri_encode(std::string_view bytes, bool keep_slash) {
  static constexpr std::string_view kUpperHex = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(bytes.size() * 3 / 2);
  for (unsigned char c : bytes) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kUpperHex[c >> 4]);
      encoded.push_back(kUpperHex[c & 0x0f]);
    }
  }
  return encoded;
}

std::string uri_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

std::string canonical_uri(std::string_view wire_path) {
  if (wire_path.empty()) return "/";
  return uri_encode(remove_dot_segments(wire_path), /*keep_slash=*/true);
}

std::string canonical_query_string(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& pair : split(raw_query, '&')) {
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::string_view name = std::string_view(pair).substr(0, equals);
    std::string_view value =
        equals == std::string::npos ? std::string_view() : std::string_view(pair).substr(equals + 1);
    pairs.emplace_back(uri_encode(uri_decode(name), false), uri_encode(uri_decode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());

  std::string canonical;
  for (const auto& [name, value] : pairs) {
    if (!canonical.empty()) canonical += '&';
    canonical += name;
    canonical += '=';
    canonical += value;
  }
  return canonical;
}

std::string host_header_for(std::string_view url) {
  UrlParts parts = split_url(url);
  std::string host = parts.ipv6 ? "[" + parts.host + "]" : parts.host;
  bool default_port =
      (parts.scheme == "http" && parts.port == "80") || (parts.scheme == "https" && parts.port == "443");
  if (!parts.port.empty() && !default_port) host += ":" + parts.port;
  return host;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                               std::string_view service) {
  std::string date_key = hmac_sha256("AWS4" + std::string(secret_access_key), date);
  std::string region_key = hmac_sha256(date_key, region);
  std::string service_key = hmac_sha256(region_key, service);
  return hmac_sha256(service_key, "aws4_request");
}

SignatureParts compute_signature(const HttpRequest& request, const Credentials& credentials,
                                 const SigningScope& scope) {
  SignatureParts parts;
  UrlParts url = split_url(request.url);

  // Canonical request: method, URI, query, headers, signed header names and
  // the payload hash, one per line.
  std::map<std::string, std::string> headers = canonical_header_map(request);
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!parts.signed_headers.empty()) parts.signed_headers += ';';
    parts.signed_headers += name;
  }
  const std::string* declared_hash = find_header(request, "X-Amz-Content-SHA256");
  std::string payload_hash = declared_hash != nullptr ? *declared_hash : sha256_hex(request.body);

  std::string method = request.method;
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  parts.canonical_request = method + "\n" + canonical_uri(url.path) + "\n" + canonical_query_string(url.query) + "\n" +
                            canonical_headers + "\n" + parts.signed_headers + "\n" + payload_hash;

  // String to sign: algorithm, timestamp, credential scope and the hash of
  // the canonical request.
  std::string amz_date = format_amz_date(scope.time);
  std::string date = amz_date.substr(0, 8);
  std::string scope_text = credential_scope(scope, date);
  parts.string_to_sign =
      std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope_text + "\n" + sha256_hex(parts.canonical_request);

  std::string key = derive_signing_key(credentials.secret_access_key, date, scope.region, scope.service);
  parts.signature = to_hex(hmac_sha256(key, parts.string_to_sign));
  parts.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope_text +
                        ", SignedHeaders=" + parts.signed_headers + ", Signature=" + parts.signature;
  return parts;
}

void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope) {
  remove_header(request, "Authorization");
  remove_header(request, "X-Amz-Date");
  request.headers.emplace_back("X-Amz-Date", format_amz_date(scope.time));
  if (!credentials.session_token.empty()) {
    remove_header(request, "X-Amz-Security-Token");
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  SignatureParts parts = compute_signature(request, credentials, scope);
  request.headers.emplace_back("Authorization", std::move(parts.authorization));
}

}  // namespace hivemind::aws
