#pragma once

// The log: every AWS call, remote command and decision, with a level and a
// component. It is separate from what the user sees on screen; engines write
// here and report progress upward through events, never by printing.

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>

namespace hivemind::log {

// Returns the logger of a component ("aws", "provisioner", ...). Until
// configure() is called, messages go nowhere.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Sends every component's messages at `level` and above to `file` (appended),
// and, when `echo_to_stderr` is set, to standard error as well.
void configure(const std::filesystem::path& file, spdlog::level::level_enum level, bool echo_to_stderr);

// Sends messages only to standard error (used by commands with no deployment).
void configure_stderr(spdlog::level::level_enum level);

}  // namespace hivemind::log
