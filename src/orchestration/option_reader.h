#pragma once
/// \file OptionReader: every backend reads its text options (URI query, consumer or producer
/// options) through this, so a bad value reads the same on every backend and an option no
/// part reads is warned about once rather than dropped in silence.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail {

/// `text` as a whole number in [min, max] (digits in `base`, nothing else), or nothing.
std::optional<std::uint64_t> whole_number(std::string_view text, std::uint64_t min,
                                          std::uint64_t max, int base = 10) noexcept;

/// Reads one set of options for one user ("mmap consumer", "redis"). Each getter marks its
/// key read; warn_unread() then names the rest. Errors say
/// "<who> option KEY='TEXT' must be ..." (secret values shown as ***).
class OptionReader {
 public:
  OptionReader(std::string who, const BackendOptions& options);

  /// The number under `key`, or `fallback` when it is absent.
  Result<std::uint64_t> number(std::string_view key, std::uint64_t min, std::uint64_t max,
                               std::uint64_t fallback, int base = 10);
  /// As number(), in milliseconds.
  Result<std::chrono::milliseconds> millis(std::string_view key, std::uint64_t min,
                                           std::uint64_t max, std::chrono::milliseconds fallback);
  /// true/1/yes or false/0/no under `key`, or `fallback` when it is absent.
  Result<bool> flag(std::string_view key, bool fallback);
  /// The text under `key`, as given.
  std::optional<std::string> text(std::string_view key);

  /// The error for `key`'s value breaking `rule` ("must be ...", "is not ...").
  [[nodiscard]] Error invalid(std::string_view key, std::string_view rule) const;
  /// Keys no getter has read.
  [[nodiscard]] std::set<std::string, std::less<>> unread() const;
  /// Logs one warning per unread key: "<who>: ignoring unknown option 'KEY'", or with
  /// `note` for the keys in `noted` ("... ignoring option 'KEY', <note>").
  void warn_unread(const std::set<std::string_view>& noted = {}, std::string_view note = {}) const;

 private:
  const std::string* find(std::string_view key);

  std::string who_;
  const BackendOptions& options_;
  std::set<std::string, std::less<>> read_;
};

}  // namespace mlops::orchestration::detail
