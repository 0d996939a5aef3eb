#pragma once
/// \file Heap allocations counted by replacing every form of the global operator new/delete
/// (alloc_counter.cpp, the object library mlops_alloc_counter: link it into a test or
/// benchmark binary that counts allocations). Read alloc_count() before and after the code
/// under test; the difference is what it allocated on this thread.

#include <cstdint>

namespace mlops::testing {

/// Allocations through any form of operator new made by the calling thread so far.
std::uint64_t alloc_count() noexcept;

}  // namespace mlops::testing
