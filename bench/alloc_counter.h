#pragma once
/// \file Heap allocations counted by replacing every form of the global operator new/delete
/// (alloc_counter.cpp, linked into each benchmark binary). A benchmark reads alloc_count()
/// before and after its loop and reports the difference per iteration.

#include <cstdint>

namespace mlops::bench {

/// Allocations through any form of operator new made by the calling thread so far.
std::uint64_t alloc_count() noexcept;

}  // namespace mlops::bench
