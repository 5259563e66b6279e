#pragma once

// Result<T, E>: the value of an operation that can fail in normal use (an AWS
// error, a refused connection, a missing file). Bugs are asserted instead.
// No exception crosses a module boundary; callers check and propagate these.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace hivemind {

// A failure that the user can act on: what failed, and what to do next.
struct Error {
  std::string code;         // stable machine-readable code, e.g. "config.missing_region"
  std::string message;      // one plain sentence: what failed, on which value
  std::string remediation;  // the next step: a command, a flag, a permission

  // Returns the message followed by the remediation, for one-line display.
  std::string describe() const {
    if (remediation.empty()) return message;
    return message + " " + remediation;
  }
};

inline Error make_error(std::string code, std::string message, std::string remediation = {}) {
  return Error{std::move(code), std::move(message), std::move(remediation)};
}

// Wraps an error so that Result's constructor can tell it from a value even
// when T and E are the same type.
template <typename E>
struct Failure {
  E error;
};

template <typename E>
Failure<std::decay_t<E>> fail(E&& error) {
  return Failure<std::decay_t<E>>{std::forward<E>(error)};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
  Result(Failure<E> failure) : storage_(std::in_place_index<1>, std::move(failure.error)) {}
  template <typename Other>
    requires(!std::is_same_v<Other, E> && std::is_constructible_v<E, Other>)
  Result(Failure<Other> failure) : storage_(std::in_place_index<1>, E(std::move(failure.error))) {}

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & {
    assert(ok());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(storage_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const E& error() const& {
    assert(!ok());
    return std::get<1>(storage_);
  }
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(storage_));
  }

  T value_or(T fallback) const& { return ok() ? std::get<0>(storage_) : std::move(fallback); }

 private:
  std::variant<T, E> storage_;
};

// Result of an operation that returns nothing on success.
struct Unit {};

using Status = Result<Unit, Error>;

inline Unit ok_unit() { return Unit{}; }

}  // namespace hivemind
