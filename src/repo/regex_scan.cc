#include "repo/regex_scan.h"

#include <vector>

namespace hivemind::repo {
namespace {

std::vector<size_t> occurrences(const std::string& text, std::string_view literal) {
  std::vector<size_t> found;
  for (size_t at = text.find(literal); at != std::string::npos; at = text.find(literal, at + 1)) found.push_back(at);
  return found;
}

}  // namespace

void for_each_match(const std::string& text, std::string_view literal, const std::regex& pattern,
                    const std::function<void(const std::smatch& match, size_t window_start)>& on_match,
                    size_t max_match) {
  std::vector<size_t> places = occurrences(text, literal);
  if (places.empty()) return;

  // When the windows would cover the text anyway, one pass over it is cheaper.
  if (places.size() * 2 * max_match >= text.size()) {
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
      on_match(*it, 0);
    }
    return;
  }

  size_t last_reported_end = 0;
  for (size_t found : places) {
    // Every match that contains the literal at `found` lies inside this
    // window. Matches that do not contain it are left to the window of an
    // occurrence they contain, because this window may cut them short.
    size_t start = found > max_match ? found - max_match : 0;
    size_t end = std::min(text.size(), found + literal.size() + max_match);
    std::string window = text.substr(start, end - start);
    for (auto it = std::sregex_iterator(window.begin(), window.end(), pattern); it != std::sregex_iterator(); ++it) {
      size_t match_start = start + static_cast<size_t>(it->position(0));
      size_t match_end = match_start + static_cast<size_t>(it->length(0));
      if (match_start > found || match_end < found + literal.size()) continue;
      if (match_start < last_reported_end) continue;  // the same match, containing an earlier occurrence
      on_match(*it, start);
      last_reported_end = match_end;
    }
  }
}

}  // namespace hivemind::repo
