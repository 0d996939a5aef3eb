#include "orchestration/inproc/inproc_consumer.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <thread>

#include "orchestration/inproc/asymmetric_fence.h"
#include "orchestration/inproc/spin.h"

namespace mlops::orchestration::detail::inproc {
namespace {

// A consumer without a group gets one of its own; '~' keeps it apart from user names.
std::string ephemeral_group_name() {
  static std::atomic<std::uint64_t> counter{0};
  return "~consumer-" + std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

// How long a consumer sleeps at most when its fence failed (see heavy_fence()).
constexpr std::chrono::milliseconds kUnfencedNap{1};

}  // namespace

InprocConsumer::InprocConsumer(Broker& broker, const ConsumerOptions& options)
    : broker_(broker),
      group_(options.group.empty() ? ephemeral_group_name() : options.group),
      ephemeral_(options.group.empty()),
      offset_reset_(options.offset_reset) {}

InprocConsumer::~InprocConsumer() { close(); }

Result<void> InprocConsumer::assign(std::span<const std::string> topics) {
  auto find = [&](std::string_view name) {
    return std::find_if(members_.begin(), members_.end(),
                        [&](const auto& member) { return member->topic->name() == name; });
  };
  // Join the new topics first: if that fails (out of memory), nothing has changed.
  std::vector<std::unique_ptr<Member>> joined;
  try {
    for (const auto& name : topics) {
      if (find(name) != members_.end()) continue;
      auto member = std::make_unique<Member>();
      broker_.topic(name).join(*member, group_, ephemeral_, offset_reset_, waiter_);
      joined.push_back(std::move(member));
    }
    members_.reserve(members_.size() + joined.size());
  } catch (...) {
    for (auto& member : joined) member->topic->leave(*member);
    throw;
  }
  // Then leave the topics no longer wanted (their uncommitted entries go back to the
  // group), and order the members as the subscription is.
  std::erase_if(members_, [&](const std::unique_ptr<Member>& member) {
    const bool kept =
        std::find(topics.begin(), topics.end(), member->topic->name()) != topics.end();
    if (!kept) member->topic->leave(*member);
    return !kept;
  });
  std::move(joined.begin(), joined.end(), std::back_inserter(members_));
  std::stable_sort(members_.begin(), members_.end(), [&](const auto& a, const auto& b) {
    const auto rank = [&](const auto& member) {
      return std::find(topics.begin(), topics.end(), member->topic->name()) - topics.begin();
    };
    return rank(a) < rank(b);
  });
  next_member_ = 0;
  return {};
}

std::size_t InprocConsumer::take_all(std::vector<Delivery>& out, std::size_t max) noexcept {
  const std::size_t count = members_.size();
  std::size_t taken = 0;
  for (std::size_t i = 0; i < count && taken < max; ++i) {
    Member& member = *members_[(next_member_ + i) % count];
    taken += member.topic->take(member, out, max - taken);
  }
  if (count > 0) next_member_ = (next_member_ + 1) % count;
  return taken;
}

bool InprocConsumer::anything_new() const noexcept {
  for (const auto& member : members_) {
    if (member->topic->has_news(*member)) return true;
  }
  return false;
}

Status InprocConsumer::poll(std::vector<Delivery>& out, std::size_t max,
                            Deadline deadline) noexcept {
  for (;;) {
    if (take_all(out, max) > 0) return Status::kOk;
    auto now = Clock::now();
    if (now >= deadline) return Status::kTimeout;
    // Poll briefly without locks: a busy producer is usually nanoseconds away.
    const auto stop_polling = std::min(deadline, now + kPollBeforeSleep);
    while (!anything_new() && now < stop_polling) {
      for (int i = 0; i < kPollsPerClockRead && !anything_new(); ++i) cpu_relax();
      std::this_thread::yield();  // with more threads than cores, let the producer run
      now = Clock::now();
    }
    if (anything_new()) continue;
    if (now >= deadline) return Status::kTimeout;
    // Announce the sleep, then look once more: a publisher that comes after the look
    // sees the announcement and wakes us; one that came before left its entry to find.
    waiter_.prepare();
    for (auto& member : members_) member->topic->add_sleeper();
    // Without a fence that pairs with the producers', a wake-up may be lost: nap briefly.
    const bool fenced = heavy_fence();
    const bool found = take_all(out, max) > 0;
    if (found) {
      waiter_.cancel();
    } else {
      waiter_.sleep(fenced ? deadline : std::min(deadline, Clock::now() + kUnfencedNap));
    }
    for (auto& member : members_) member->topic->remove_sleeper();
    if (found) return Status::kOk;
  }
}

Status InprocConsumer::commit() noexcept {
  for (auto& member : members_) {
    // in_flight changes only on this thread, so reading it unlocked here is safe.
    if (!member->in_flight.empty()) member->topic->commit(*member);
  }
  return Status::kOk;
}

Result<void> InprocConsumer::seek(std::string_view topic, bool to_latest) {
  for (auto& member : members_) {
    if (member->topic->name() == topic) {
      member->topic->seek(*member, to_latest);
      return {};
    }
  }
  return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + std::string(topic) + "'"};
}

Result<std::uint64_t> InprocConsumer::seek_to(std::string_view topic, const SeekProbe& probe) {
  for (auto& member : members_) {
    if (member->topic->name() == topic) return member->topic->seek_to(*member, probe);
  }
  return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + std::string(topic) + "'"};
}

void InprocConsumer::close() noexcept {
  for (auto& member : members_) member->topic->leave(*member);
  members_.clear();
}

}  // namespace mlops::orchestration::detail::inproc
