// Recoverable errors are values: a Result<T> holds either a T or an Error.
// An Error says what failed and why, ready for a log line, and keeps what a
// caller may act on: the errno of a failed system call, and a kind
// (bad input from the operator, a missing privilege, anything else).
//
// Propagation is one line and keeps the errno and kind:
//   auto fd = open_thing(path);
//   if (!fd) return fd.error().context("open counter map");  // "open counter map: <why>"
//   if (!fd) return fd.error();                               // unchanged
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cgio {

enum class ErrorKind {
  failed,      // the operation could not be done (exit status 1 at start-up)
  bad_input,   // a flag, file or pattern the operator gave is invalid (exit status 2)
  permission,  // a privilege or capability is missing
};

struct Error {
  std::string message;
  int code = 0;  // errno, when a system call failed; 0 otherwise
  ErrorKind kind = ErrorKind::failed;

  // The same error with "what: " in front of its message.
  Error context(std::string_view what) const& { return Error{std::string(what) + ": " + message, code, kind}; }
  Error context(std::string_view what) && {
    message.insert(0, std::string(what) + ": ");
    return std::move(*this);
  }
  const char* c_str() const { return message.c_str(); }
  // Where a string is wanted (a log field, a status reason), an error is its message.
  operator std::string_view() const { return message; }    // NOLINT: implicit by design
  operator const std::string&() const { return message; }  // NOLINT: implicit by design
};

// "<what>: <strerror(err)>", keeping `err` as the code.
Error errno_error(std::string_view what, int err, ErrorKind kind = ErrorKind::failed);
// An invalid flag, file or pattern the operator gave.
inline Error bad_input(std::string message) { return Error{std::move(message), 0, ErrorKind::bad_input}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& value() const& { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const& { return std::get<Error>(v_); }
  Error&& error() && { return std::get<Error>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace cgio
