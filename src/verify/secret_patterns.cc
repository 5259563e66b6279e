// Hand-written matchers instead of std::regex: the state database and logs
// can be megabytes, and each matcher starts only at a short literal.

#include "verify/secret_patterns.h"

#include <array>
#include <cctype>

namespace hivemind::verify {
namespace {

bool is_upper_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_name_char(char c) { return is_upper_alnum(c) || c == '_'; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A value that refers to a secret instead of holding it: a shell expansion
// ($VAR, ${VAR}, $(command)), a template ({{ }}, <...>, %s) or a redaction
// marker ([redacted], ***).
bool is_reference(char first) {
  return first == '$' || first == '{' || first == '<' || first == '%' || first == '[' || first == '*';
}

bool has_private_key_block(std::string_view text) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "PRIVATE KEY-----";
  for (std::size_t at = text.find(kBegin); at != std::string_view::npos; at = text.find(kBegin, at + 1)) {
    std::string_view header = text.substr(at + kBegin.size(), 40);
    std::size_t end = header.find(kEnd);
    if (end != std::string_view::npos && header.substr(0, end).find('\n') == std::string_view::npos) return true;
  }
  return false;
}

// AKIA (long-term) or ASIA (temporary) and 16 more upper-case letters or
// digits, with no such character on either side.
bool has_access_key_id(std::string_view text) {
  for (std::string_view prefix : {std::string_view("AKIA"), std::string_view("ASIA")}) {
    for (std::size_t at = text.find(prefix); at != std::string_view::npos; at = text.find(prefix, at + 1)) {
      if (at > 0 && is_upper_alnum(text[at - 1])) continue;
      std::size_t end = at + 20;
      if (end > text.size()) break;
      bool body = true;
      for (std::size_t i = at + 4; i < end && body; ++i) body = is_upper_alnum(text[i]);
      if (body && (end == text.size() || !is_upper_alnum(text[end]))) return true;
    }
  }
  return false;
}

// scheme://user:password@host, with a password that is not a reference.
bool has_url_password(std::string_view text) {
  constexpr std::string_view kSeparator = "://";
  for (std::size_t at = text.find(kSeparator); at != std::string_view::npos; at = text.find(kSeparator, at + 1)) {
    std::size_t start = at + kSeparator.size();
    std::size_t end = start;
    while (end < text.size() && end - start < 512) {
      char c = text[end];
      if (c == '@' || c == '/' || c == '"' || c == '\'' || c == '\0' || is_space(c)) break;
      ++end;
    }
    if (end >= text.size() || text[end] != '@') continue;
    std::string_view user_info = text.substr(start, end - start);
    std::size_t colon = user_info.find(':');
    if (colon == std::string_view::npos || colon + 1 >= user_info.size()) continue;
    if (!is_reference(user_info[colon + 1])) return true;
  }
  return false;
}

bool ends_with_secret_word(std::string_view name) {
  constexpr std::array<std::string_view, 5> kWords = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "_KEY"};
  for (std::string_view word : kWords) {
    if (name.ends_with(word)) return true;
  }
  return false;
}

// NAME=value where NAME is an upper-case variable name ending in PASSWORD,
// PASSWD, SECRET, TOKEN or _KEY, and value a literal of 8 or more characters.
bool has_secret_assignment(std::string_view text) {
  constexpr std::size_t kMinValue = 8;
  for (std::size_t at = text.find('='); at != std::string_view::npos; at = text.find('=', at + 1)) {
    std::size_t name_start = at;
    while (name_start > 0 && is_name_char(text[name_start - 1])) --name_start;
    if (name_start == at || (name_start > 0 && std::isalnum(static_cast<unsigned char>(text[name_start - 1])))) {
      continue;
    }
    if (!ends_with_secret_word(text.substr(name_start, at - name_start))) continue;

    std::size_t value_start = at + 1;
    if (value_start < text.size() && (text[value_start] == '"' || text[value_start] == '\'')) ++value_start;
    std::size_t value_end = value_start;
    while (value_end < text.size() && !is_space(text[value_end]) && text[value_end] != '"' && text[value_end] != '\'' &&
           text[value_end] != '\0') {
      ++value_end;
    }
    if (value_end - value_start >= kMinValue && !is_reference(text[value_start])) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> find_secret_patterns(std::string_view text) {
  std::vector<std::string> found;
  if (has_private_key_block(text)) found.emplace_back("a private key block");
  if (has_access_key_id(text)) found.emplace_back("an AWS access key id");
  if (has_url_password(text)) found.emplace_back("a URL with a password");
  if (has_secret_assignment(text)) found.emplace_back("a password, token or key assigned to a variable");
  return found;
}

}  // namespace hivemind::verify
