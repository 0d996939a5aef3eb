#pragma once
// Creates and faults in segments, a few MiB at a time, ahead of the writers, on a background
// thread, so a writer never waits for fallocate or for a page fault per page (Chronicle Queue's
// pre-toucher). Pages are faulted in writable (MADV_POPULATE_WRITE): MAP_POPULATE maps file pages
// read-only, and the first write to each would still fault.

#include <cstdint>
#include <memory>

namespace mlops::orchestration::detail::mmap {

class TopicLog;
struct Segment;

/// Asks the background thread to make bytes [begin, end) of segment `index` of `log` ready:
/// the file created, mapped and those pages faulted in (in huge pages if `huge_pages`: see
/// TopicLog::prepare). Never blocks on that work; a request
/// for a log that is gone is dropped. Safe after fork(): a child gets a thread of its own on
/// its first request, and fork() waits for a preparation under way (fork_guard.h).
void prepare_segment_ahead(const std::shared_ptr<TopicLog>& log, std::uint64_t index,
                           std::uint64_t begin, std::uint64_t end, bool huge_pages) noexcept;

/// Asks the background thread to have this process's mapping of segment `index` of `log`
/// ask for small pages again from offset `from` on (TopicLog::use_small_pages), after a
/// writer that was given huge pages began to sync. Never blocks; dropped like the above.
void use_small_pages_ahead(const std::shared_ptr<TopicLog>& log, std::uint64_t index,
                           std::uint64_t from) noexcept;

/// Lets go of `segment` on the background thread: when this was the last reference, its
/// unmapping (milliseconds for a segment whose pages are all mapped) is off the caller's
/// path. Done here instead when it cannot be queued.
void release_in_background(std::shared_ptr<Segment>&& segment) noexcept;

}  // namespace mlops::orchestration::detail::mmap
