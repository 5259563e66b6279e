#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace hivemind::log {
namespace {

// Guards sinks() reconfiguration and the logger registry below.
std::mutex registry_mutex;

std::shared_ptr<spdlog::sinks::dist_sink_mt>& sinks() {
  static auto shared = std::make_shared<spdlog::sinks::dist_sink_mt>();
  return shared;
}

spdlog::level::level_enum& current_level() {
  static spdlog::level::level_enum level = spdlog::level::off;
  return level;
}

void apply_level_to_all_loggers(spdlog::level::level_enum level) {
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(level); });
}

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = std::make_shared<spdlog::logger>(component, sinks());
  logger->set_level(current_level());
  spdlog::register_logger(logger);
  return logger;
}

void configure(const std::filesystem::path& file, spdlog::level::level_enum level, bool echo_to_stderr) {
  std::lock_guard lock(registry_mutex);
  std::vector<spdlog::sink_ptr> list;
  auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/false);
  file_sink->set_pattern(kPattern);
  list.push_back(file_sink);
  if (echo_to_stderr) {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_pattern(kPattern);
    list.push_back(stderr_sink);
  }
  sinks()->set_sinks(list);
  current_level() = level;
  apply_level_to_all_loggers(level);
}

void configure_stderr(spdlog::level::level_enum level) {
  std::lock_guard lock(registry_mutex);
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  stderr_sink->set_pattern(kPattern);
  sinks()->set_sinks({stderr_sink});
  current_level() = level;
  apply_level_to_all_loggers(level);
}

}  // namespace hivemind::log
