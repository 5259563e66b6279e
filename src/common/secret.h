#pragma once

// Secret: a string that must never reach a log, an error message, a command
// line or the state store. Formatting it (fmt, spdlog, operator<<) prints
// "[redacted]"; the only way to the text is the explicit reveal() call, which
// marks in the code every place where the secret leaves this type.
// Thread safety: like std::string (const access from many threads is safe).

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace hivemind {

class Secret {
 public:
  static constexpr std::string_view kRedacted = "[redacted]";

  Secret() = default;
  explicit Secret(std::string text) : text_(std::move(text)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&& other) noexcept : text_(std::move(other.text_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      text_ = std::move(other.text_);
      other.wipe();
    }
    return *this;
  }
  // Overwrites the characters before the memory is released, so that a
  // freed heap block does not keep the secret.
  ~Secret() { wipe(); }

  // Returns the secret's text. Call only where the text must leave the
  // process in a protected form (an SFTP write of a 0600 file, a TLS body).
  const std::string& reveal() const { return text_; }

  bool empty() const { return text_.empty(); }
  std::size_t size() const { return text_.size(); }

  friend bool operator==(const Secret& a, const Secret& b) { return a.text_ == b.text_; }

  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << kRedacted; }

 private:
  void wipe() {
    volatile char* bytes = text_.data();
    for (std::size_t i = 0; i < text_.size(); ++i) bytes[i] = '\0';
    text_.clear();
  }

  std::string text_;
};

}  // namespace hivemind

template <>
struct fmt::formatter<hivemind::Secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const hivemind::Secret&, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(hivemind::Secret::kRedacted, context);
  }
};
