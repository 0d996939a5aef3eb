#pragma once
// A cheap identity of the calling thread, for checks on a hot path.

#include <cstdint>

namespace mlops::orchestration::detail {

/// A value that tells the calling thread apart from every other thread alive now; never 0.
/// (The address of a thread-local byte: one thread-pointer read, no call, no locked
/// instruction. A thread started after another ended may get the ended one's value.)
[[nodiscard]] inline std::uintptr_t this_thread_token() noexcept {
  static thread_local const char token = 0;
  return reinterpret_cast<std::uintptr_t>(&token);
}

}  // namespace mlops::orchestration::detail
