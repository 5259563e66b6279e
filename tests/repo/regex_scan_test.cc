#include "repo/regex_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hivemind::repo {
namespace {

struct Found {
  std::string name;
  size_t position;
};

std::vector<Found> names_in(const std::string& text, size_t max_match = 256) {
  static const std::regex kRead(R"(process\.env\.([A-Z_]+))");
  std::vector<Found> found;
  for_each_match(
      text, "process.env", kRead,
      [&](const std::smatch& match, size_t window_start) {
        found.push_back({match.str(1), window_start + static_cast<size_t>(match.position(1))});
      },
      max_match);
  return found;
}

TEST(RegexScan, FindsEveryMatchOfLongText) {
  std::string filler(5000, 'x');
  std::string text = filler + "process.env.FIRST;" + filler + "process.env.SECOND;" + filler;
  std::vector<Found> found = names_in(text, 64);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "FIRST");
  EXPECT_EQ(text.substr(found[0].position, 5), "FIRST");
  EXPECT_EQ(found[1].name, "SECOND");
  EXPECT_EQ(text.substr(found[1].position, 6), "SECOND");
}

TEST(RegexScan, NeverReportsMatchCutByWindow) {
  // The second read starts inside the first read's window, whose end would
  // cut its name short; it must be reported whole, from its own window.
  std::string filler(5000, 'x');
  std::string text = filler + "process.env.A;" + std::string(40, ' ') + "process.env.LONG_NAME_HERE;" + filler;
  std::vector<Found> found = names_in(text, 60);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "A");
  EXPECT_EQ(found[1].name, "LONG_NAME_HERE");
}

TEST(RegexScan, ShortTextIsScannedOnce) {
  std::vector<Found> found = names_in("process.env.ONE process.env.TWO");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "ONE");
  EXPECT_EQ(found[0].position, 12u);
  EXPECT_EQ(found[1].name, "TWO");
}

TEST(RegexScan, NoLiteralNoMatch) { EXPECT_TRUE(names_in(std::string(10000, 'y')).empty()); }

}  // namespace
}  // namespace hivemind::repo
