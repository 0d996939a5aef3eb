#include "orchestration/option_reader.h"

#include <charconv>

#include "mlops/log.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail {

std::optional<std::uint64_t> whole_number(std::string_view text, std::uint64_t min,
                                          std::uint64_t max, int base) noexcept {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || error != std::errc() || stop != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

OptionReader::OptionReader(std::string who, const BackendOptions& options)
    : who_(std::move(who)), options_(options) {}

const std::string* OptionReader::find(std::string_view key) {
  const auto found = options_.find(key);
  if (found == options_.end()) return nullptr;
  read_.emplace(key);
  return &found->second;
}

Result<std::uint64_t> OptionReader::number(std::string_view key, std::uint64_t min,
                                           std::uint64_t max, std::uint64_t fallback, int base) {
  const auto* text = find(key);
  if (text == nullptr) return fallback;
  if (auto value = whole_number(*text, min, max, base)) return *value;
  return invalid(
      key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

Result<std::chrono::milliseconds> OptionReader::millis(std::string_view key, std::uint64_t min,
                                                       std::uint64_t max,
                                                       std::chrono::milliseconds fallback) {
  auto value = number(key, min, max, static_cast<std::uint64_t>(fallback.count()));
  if (!value) return value.error();
  return std::chrono::milliseconds(*value);
}

Result<bool> OptionReader::flag(std::string_view key, bool fallback) {
  const auto* text = find(key);
  if (text == nullptr) return fallback;
  if (*text == "true" || *text == "1" || *text == "yes") return true;
  if (*text == "false" || *text == "0" || *text == "no") return false;
  return invalid(key, "is not true/false");
}

std::optional<std::string> OptionReader::text(std::string_view key) {
  const auto* text = find(key);
  if (text == nullptr) return std::nullopt;
  return *text;
}

Error OptionReader::invalid(std::string_view key, std::string_view rule) const {
  const auto found = options_.find(key);
  const std::string shown = found == options_.end() ? std::string("''")
                            : names_a_secret(key)   ? std::string("'***'")
                                                    : quote_text(found->second);
  return Error{ErrorCode::kInvalidArgument,
               who_ + " option " + std::string(key) + "=" + shown + " " + std::string(rule)};
}

std::set<std::string, std::less<>> OptionReader::unread() const {
  std::set<std::string, std::less<>> keys;
  for (const auto& [key, value] : options_) {
    if (!read_.contains(key)) keys.insert(key);
  }
  return keys;
}

void OptionReader::warn_unread(const std::set<std::string_view>& noted,
                               std::string_view note) const {
  for (const auto& key : unread()) {
    log(LogLevel::kWarning, noted.contains(key)
                                ? who_ + ": ignoring option '" + key + "', " + std::string(note)
                                : who_ + ": ignoring unknown option '" + key + "'");
  }
}

}  // namespace mlops::orchestration::detail
