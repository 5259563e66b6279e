#include "cli/ui.h"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace hivemind::cli {
namespace {

const char* color_code(Color color) {
  switch (color) {
    case Color::kRed:
      return "\033[31m";
    case Color::kGreen:
      return "\033[32m";
    case Color::kYellow:
      return "\033[33m";
    case Color::kBlue:
      return "\033[34m";
    case Color::kCyan:
      return "\033[36m";
    case Color::kGray:
      return "\033[90m";
    case Color::kBold:
      return "\033[1m";
    case Color::kNone:
      return "";
  }
  return "";
}

constexpr const char* kSpinnerFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

}  // namespace

void print_json_failure(const Error& error) {
  std::cout << nlohmann::json{{"ok", false}, {"code", error.code}, {"error", error.describe()}}.dump(2) << "\n";
}

std::string format_duration(std::chrono::milliseconds duration) {
  long long ms = duration.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  long long seconds = ms / 1000;
  if (seconds < 60) return fmt::format("{}s", seconds);
  long long minutes = seconds / 60;
  if (minutes < 60) return fmt::format("{}m{:02}s", minutes, seconds % 60);
  return fmt::format("{}h{:02}m", minutes / 60, minutes % 60);
}

Ui::Ui(bool use_color, bool json_mode)
    : color_(use_color && isatty(STDOUT_FILENO) == 1), json_mode_(json_mode), terminal_(isatty(STDOUT_FILENO) == 1) {
  if (terminal_ && !json_mode_) spinner_thread_ = std::thread([this] { spinner_loop(); });
}

Ui::~Ui() {
  {
    std::lock_guard lock(mutex_);
    clear_spinner_line_locked();
    stopping_ = true;
  }
  if (spinner_thread_.joinable()) spinner_thread_.join();
}

std::string Ui::paint(std::string_view text, Color color) const {
  if (!color_ || color == Color::kNone) return std::string(text);
  return fmt::format("{}{}\033[0m", color_code(color), text);
}

void Ui::info(std::string_view line) {
  if (json_mode_) return;
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
  std::cout << line << '\n' << std::flush;
}

void Ui::success(std::string_view line) {
  if (json_mode_) return;
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
  std::cout << paint("✔", Color::kGreen) << ' ' << line << '\n' << std::flush;
}

void Ui::warning(std::string_view line) {
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
  std::cerr << paint("!", Color::kYellow) << ' ' << line << '\n' << std::flush;
}

void Ui::error(std::string_view line) {
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
  std::cerr << paint("✖", Color::kRed) << ' ' << line << '\n' << std::flush;
}

void Ui::start_spinner(std::string activity, std::chrono::seconds estimate) {
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
  activity_ = std::move(activity);
  activity_started_ = std::chrono::steady_clock::now();
  estimate_ = estimate;
  spinner_active_ = true;
}

void Ui::stop_spinner() {
  std::lock_guard lock(mutex_);
  clear_spinner_line_locked();
}

void Ui::clear_spinner_line_locked() {
  if (!spinner_active_) return;
  spinner_active_ = false;
  if (terminal_ && !json_mode_) std::cout << "\r\033[2K" << std::flush;
}

void Ui::spinner_loop() {
  size_t frame = 0;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (!spinner_active_) continue;
    auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - activity_started_);
    std::string line = fmt::format("{} {} {}", kSpinnerFrames[frame % std::size(kSpinnerFrames)], activity_,
                                   paint(format_duration(elapsed), Color::kGray));
    if (estimate_.count() > 0) {
      line += paint(fmt::format(" (usually ~{})", format_duration(estimate_)), Color::kGray);
    }
    std::cout << "\r\033[2K" << line << std::flush;
    ++frame;
  }
}

Result<bool> Ui::confirm(std::string_view question, bool assume_yes) {
  if (assume_yes) return true;
  if (isatty(STDIN_FILENO) != 1) {
    return fail(make_error("cli.confirmation_required",
                           fmt::format("Cannot ask \"{}\": standard input is not a terminal.", question),
                           "Run it again with --yes to confirm without a prompt."));
  }
  {
    std::lock_guard lock(mutex_);
    clear_spinner_line_locked();
    std::cout << question << " [y/N] " << std::flush;
  }
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  std::string normalized = to_lower(trim(answer));
  return normalized == "y" || normalized == "yes";
}

}  // namespace hivemind::cli
