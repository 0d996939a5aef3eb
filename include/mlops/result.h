#pragma once
/// \file Result<T>: a value or an Error, in the shape of std::expected.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "mlops/export.h"

namespace mlops {

/// Why a call failed; the Error's message says the details.
enum class ErrorCode {
  kInvalidArgument,  ///< The caller passed something malformed (bad JSON, bad URI, ...).
  kEmpty,            ///< Input had no bytes at all.
  kTooLarge,         ///< Input exceeds a documented size limit.
  kTruncated,        ///< Input ends before the structure it describes.
  kWrongIdentifier,  ///< Input is not an MLOpsMessage (file identifier differs).
  kMisaligned,       ///< Borrowed bytes are not 8-byte aligned, so they cannot be read in place.
  kCorrupt,          ///< Input failed verification (bad offsets, depth, sorting, ...).
  kNotFound,         ///< A named thing does not exist.
  kUnavailable,      ///< A backend or resource cannot be reached.
  kTimeout,          ///< A wait reached its deadline.
  kInternal,         ///< A bug in this library; please report it.
};

/// Readable name of an ErrorCode, e.g. "corrupt".
MLOPS_EXPORT std::string_view to_string(ErrorCode code) noexcept;

/// A failure: a code to branch on and a message to show a person.
struct MLOPS_EXPORT Error {
  ErrorCode code;
  std::string message;
};

/// A value of type T or an Error. Mirrors std::expected so it can become one later.
/// Thread-safety: like any value type (distinct objects may be used concurrently).
///
///   auto msg = MLOpsMessage::from_bytes(bytes);
///   if (!msg) { log(msg.error().message); return; }
///   use(*msg);
template <typename T>
class [[nodiscard]] Result {
 public:
  /// A successful result holding `value`.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  /// A failed result holding `error`.
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  /// True when a value is held.
  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  /// True when a value is held.
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; the result must hold one.
  T& value() & {
    assert(has_value() && "Result::value() on an error");
    return std::get<0>(state_);
  }
  /// The value; the result must hold one.
  const T& value() const& {
    assert(has_value() && "Result::value() on an error");
    return std::get<0>(state_);
  }
  /// The value, moved out; the result must hold one.
  T&& value() && {
    assert(has_value() && "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; the result must hold one.
  const Error& error() const& {
    assert(!has_value() && "Result::error() on a value");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

/// Result of a call that produces nothing but may fail. Success holds nothing at all (no
/// string is constructed), so checks that pass cost nothing to report.
template <>
class [[nodiscard]] Result<void> {
 public:
  /// A success.
  Result() noexcept = default;
  /// A failure holding `error`.
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(implicit)

  [[nodiscard]] bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// The error; the result must hold one.
  const Error& error() const& {
    assert(error_ && "Result::error() on a value");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace mlops
