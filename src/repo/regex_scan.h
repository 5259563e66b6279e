#pragma once

// Runs a regular expression only around the places where a literal that
// every match contains occurs, instead of over the whole text. std::regex is
// slow on long texts; most source files mention a pattern's literal a few
// times at most, so the windows are short.

#include <cstddef>
#include <functional>
#include <regex>
#include <string>
#include <string_view>

namespace hivemind::repo {

// Calls `on_match` once per distinct match of `pattern` in `text`, with the
// match and the offset in `text` where its window starts (add it to
// match.position(n) for an offset in `text`). REQUIRES: every match of
// `pattern` contains `literal`, and no match is longer than `max_match`
// characters.
void for_each_match(const std::string& text, std::string_view literal, const std::regex& pattern,
                    const std::function<void(const std::smatch& match, size_t window_start)>& on_match,
                    size_t max_match = 256);

}  // namespace hivemind::repo
