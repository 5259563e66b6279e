#pragma once

// What the user sees: short progress lines, colors, a check mark per finished
// stage, a spinner for waits, confirmation prompts. Library code never prints;
// the CLI turns engine events into calls on this class.

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"

namespace hivemind::cli {

enum class Color { kNone, kRed, kGreen, kYellow, kBlue, kCyan, kGray, kBold };

class Ui {
 public:
  // Colors are on only when `use_color` is set and standard output is a
  // terminal. A spinner is shown only on a terminal.
  Ui(bool use_color, bool json_mode);
  ~Ui();
  Ui(const Ui&) = delete;
  Ui& operator=(const Ui&) = delete;

  std::string paint(std::string_view text, Color color) const;

  void info(std::string_view line);
  void success(std::string_view line);  // "✔ line"
  void warning(std::string_view line);  // to standard error
  void error(std::string_view line);    // "✖ line", to standard error

  // Shows `activity` with a spinner and the elapsed time until the next call
  // to any output method or stop_spinner(). `estimate` is printed when known.
  void start_spinner(std::string activity, std::chrono::seconds estimate = std::chrono::seconds{0});
  void stop_spinner();

  // Asks a yes/no question. With `assume_yes`, returns true without asking.
  // When standard input is not a terminal, fails with an error that says to
  // pass --yes, because nobody can answer.
  Result<bool> confirm(std::string_view question, bool assume_yes);

  bool json_mode() const { return json_mode_; }
  bool color() const { return color_; }

 private:
  void spinner_loop();
  void clear_spinner_line_locked();

  bool color_;
  bool json_mode_;
  bool terminal_;
  std::mutex mutex_;  // guards the fields below and all writes to stdout
  std::string activity_;
  std::chrono::steady_clock::time_point activity_started_;
  std::chrono::seconds estimate_{0};
  bool spinner_active_ = false;
  bool stopping_ = false;
  std::thread spinner_thread_;
};

// Writes {"ok": false, "code", "error"} for `error` to standard output: the
// failure document of deploy --json plus the error's code, so a script that
// reads only standard output of a --json command can tell why it failed.
void print_json_failure(const Error& error);

// Formats a duration as "850ms", "42s", "2m10s" or "1h05m".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace hivemind::cli
