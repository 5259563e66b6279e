#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hivemind {

std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view text, std::string_view prefix);
std::string trim(std::string_view text);
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace hivemind
