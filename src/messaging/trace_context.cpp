#include "mlops/messaging/trace_context.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <random>

namespace mlops::messaging {
namespace {

constexpr std::size_t kTraceIdStart = 3;
constexpr std::size_t kTraceIdLength = 32;
constexpr std::size_t kSpanIdStart = 36;
constexpr std::size_t kSpanIdLength = 16;
constexpr std::size_t kFlagsStart = 53;
constexpr char kHex[] = "0123456789abcdef";

bool is_lower_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool all_lower_hex(std::string_view text) noexcept {
  for (const char c : text) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

bool all_zero(std::string_view text) noexcept { return text.find_first_not_of('0') == text.npos; }

Error invalid(std::string_view why) {
  return Error{ErrorCode::kInvalidArgument,
               "invalid traceparent: " + std::string(why) +
                   " (expected 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, lower case)"};
}

// Span and trace ids need uniqueness, not secrecy: a per-thread generator seeded once.
std::uint64_t random64() {
  thread_local std::mt19937_64 engine = [] {
    std::uint64_t seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    try {
      std::random_device device;
      seed ^= (static_cast<std::uint64_t>(device()) << 32) ^ device();
    } catch (...) {  // No entropy source: the clock and the thread's stack still differ.
    }
    int on_stack = 0;
    return std::mt19937_64(seed ^ reinterpret_cast<std::uintptr_t>(&on_stack));
  }();
  std::uint64_t value = 0;
  while (value == 0) value = engine();  // An all-zero id is invalid.
  return value;
}

void append_hex(std::string& out, std::uint64_t value) {
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xF]);
}

}  // namespace

Result<void> check_traceparent(std::string_view text) {
  if (text.size() < kTraceparentLength) {
    return invalid("it has " + std::to_string(text.size()) + " characters, fewer than 55");
  }
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') {
    return invalid("the fields are not separated by '-' at characters 3, 36 and 53");
  }
  const auto version = text.substr(0, 2);
  if (!all_lower_hex(version)) return invalid("the version is not two lower-case hex digits");
  if (version == "ff") return invalid("version ff is forbidden");
  if (version == "00" && text.size() != kTraceparentLength) {
    return invalid("version 00 has exactly 55 characters, this one " + std::to_string(text.size()));
  }
  if (text.size() > kTraceparentLength) {
    if (text[kTraceparentLength] != '-') {
      return invalid("a later version's extra fields must follow a '-'");
    }
    const auto extra = text.substr(kTraceparentLength);
    if (extra.find_first_not_of("0123456789abcdef-") != extra.npos) {
      return invalid("a later version's extra fields are not lower-case hex and '-'");
    }
  }
  const auto trace_id = text.substr(kTraceIdStart, kTraceIdLength);
  if (!all_lower_hex(trace_id)) return invalid("the trace id is not 32 lower-case hex digits");
  if (all_zero(trace_id)) return invalid("the trace id is all zeros");
  const auto span_id = text.substr(kSpanIdStart, kSpanIdLength);
  if (!all_lower_hex(span_id)) return invalid("the span id is not 16 lower-case hex digits");
  if (all_zero(span_id)) return invalid("the span id is all zeros");
  if (!all_lower_hex(text.substr(kFlagsStart, 2))) {
    return invalid("the flags are not two lower-case hex digits");
  }
  return {};
}

std::string new_traceparent() {
  std::string out = "00-";
  out.reserve(kTraceparentLength);
  append_hex(out, random64());
  append_hex(out, random64());
  out.push_back('-');
  append_hex(out, random64());
  out += "-01";
  return out;
}

std::string child_traceparent(std::string_view parent) {
  std::string out = "00-";
  out.reserve(kTraceparentLength);
  out.append(parent.substr(kTraceIdStart, kTraceIdLength));
  out.push_back('-');
  append_hex(out, random64());
  out.push_back('-');
  out.append(parent.substr(kFlagsStart, 2));
  return out;
}

}  // namespace mlops::messaging
