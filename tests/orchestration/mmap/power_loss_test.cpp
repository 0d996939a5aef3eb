// Power loss, simulated: writers append and flush in threads while a test-only observer
// keeps exactly what each completed msync/fsync made durable (file bytes, and a directory's
// entries). At a random moment the power goes: the disk image is those bytes, plus a random
// few pages the kernel might have written back on its own (newer than any sync), and every
// other write since is gone (zeros for pages never synced). The queue is reopened on the
// image and must hold: every record whose sync returned kOk is read back exactly once,
// nothing torn or foreign is delivered, reading ends, and records written after recovery
// are read too while the recovered ones stay intact (nothing written below them). The next
// round runs on the recovered image. MLOPS_POWER_LOSSES sets the number of losses (1000).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"

namespace mq = mlops::orchestration::detail::mmap;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kSegmentBytes = 16384;
constexpr std::size_t kPage = 4096;

// What the disk holds: the durable bytes of each file, and the durable directory entries.
struct Disk {
  std::mutex mutex;
  bool lost = false;
  std::map<std::string, std::string> files;
  std::set<std::string> entries;
};
Disk* g_disk = nullptr;

std::string read_range(int fd, std::uint64_t offset, std::uint64_t length) {
  std::string bytes(length, '\0');
  const auto got = ::pread(fd, bytes.data(), length, static_cast<off_t>(offset));
  bytes.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return bytes;
}

void on_sync(const std::string& path, int fd, std::uint64_t offset, std::uint64_t length) {
  const std::lock_guard lock(g_disk->mutex);
  if (g_disk->lost) return;
  struct stat info {};
  if (::fstat(fd, &info) != 0) return;
  if (S_ISDIR(info.st_mode)) {
    DIR* dir = ::fdopendir(::dup(fd));
    if (dir == nullptr) return;
    ::rewinddir(dir);
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      g_disk->entries.insert(child);
      // A file made whole and synced before it was linked (create_file_atomically) may get
      // its name synced before its own observation: what it holds now was synced then.
      struct stat child_info {};
      if (g_disk->files.count(child) == 0 && ::stat(child.c_str(), &child_info) == 0 &&
          S_ISREG(child_info.st_mode)) {
        const int child_fd = ::open(child.c_str(), O_RDONLY);
        if (child_fd >= 0) {
          g_disk->files[child] =
              read_range(child_fd, 0, static_cast<std::uint64_t>(child_info.st_size));
          ::close(child_fd);
        }
      }
    }
    ::closedir(dir);
    return;
  }
  auto& bytes = g_disk->files[path];
  bytes.resize(static_cast<std::size_t>(info.st_size), '\0');
  if (length == 0) length = static_cast<std::uint64_t>(info.st_size);
  const std::string synced = read_range(fd, offset, length);
  bytes.replace(offset, synced.size(), synced);
}

std::string payload_for(std::uint64_t sequence) {
  const std::size_t filler = (sequence * 2654435761U) % 900;
  return "seq:" + std::to_string(sequence) + ":" +
         std::string(filler, static_cast<char>('a' + sequence % 26));
}

std::uint64_t sequence_of(const std::string& text) {
  if (!text.starts_with("seq:")) return UINT64_MAX;
  return std::stoull(text.substr(4));
}

// Builds the disk image of `live` under `image`: durable entries with their durable bytes,
// plus each of `extra` (pages written back on their own, captured at the loss).
void materialise(const fs::path& live, const fs::path& image, const Disk& disk,
                 const std::map<std::string, std::map<std::size_t, std::string>>& extra) {
  fs::create_directories(image);
  fs::permissions(image, fs::perms::owner_all, fs::perm_options::replace);
  const std::string prefix = live.string() + "/";
  for (const auto& entry : disk.entries) {  // Sorted: a directory before what is in it.
    if (!entry.starts_with(prefix)) continue;
    const fs::path target = image / entry.substr(prefix.size());
    if (!fs::exists(target.parent_path())) continue;  // Its directory did not survive.
    if (fs::is_directory(entry)) {
      fs::create_directory(target);
      fs::permissions(target, fs::perms::owner_all, fs::perm_options::replace);
      continue;
    }
    std::string bytes;
    if (auto found = disk.files.find(entry); found != disk.files.end()) bytes = found->second;
    if (auto pages = extra.find(entry); pages != extra.end()) {
      for (const auto& [offset, page] : pages->second) {
        if (offset + page.size() <= bytes.size()) bytes.replace(offset, page.size(), page);
      }
    }
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0) << target;
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
}

// A round starts from what is on the disk now: every file and entry under `live`, durable.
void start_from(const fs::path& live, Disk& disk) {
  const std::lock_guard lock(disk.mutex);
  disk.lost = false;
  disk.files.clear();
  disk.entries.clear();
  for (const auto& entry : fs::recursive_directory_iterator(live)) {
    disk.entries.insert(entry.path().string());
    if (!entry.is_regular_file()) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    disk.files[entry.path().string()] = read_range(fd, 0, entry.file_size());
    ::close(fd);
  }
}

std::map<std::uint64_t, std::uint64_t> g_positions;  // Where each sequence was appended.
std::mutex g_positions_mutex;

struct Round {
  std::set<std::uint64_t> acknowledged;  // Synced with kOk before the loss.
  std::uint64_t appended = 0;
};

// Writers append and sync in threads until `stop`; the loss happens after `loss_after` appends.
Round run_writers(const fs::path& live, std::uint64_t first_sequence, std::mt19937_64& rng,
                  std::map<std::string, std::map<std::size_t, std::string>>& extra) {
  mq::QueueSettings settings = mlops::testing::small_segments(kSegmentBytes);
  auto queue = mq::Queue::open(live.string(), settings);
  EXPECT_TRUE(queue.has_value()) << queue.error().message;
  if (!queue) return {};
  auto log = (*queue)->topic("t");
  EXPECT_TRUE(log.has_value()) << log.error().message;
  if (!log) return {};
  const int writers = 1 + static_cast<int>(rng() % 3);
  const std::uint64_t loss_after = 1 + rng() % 400;
  std::atomic<std::uint64_t> next_sequence{first_sequence};
  std::atomic<std::uint64_t> appended{0};
  std::atomic<bool> stop{false};
  Round round;
  std::mutex round_mutex;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    const std::uint64_t seed = rng();
    threads.emplace_back([&, seed] {
      std::mt19937_64 local(seed);
      mq::LogWriter writer(*log);
      std::vector<std::uint64_t> unsynced;
      const std::uint64_t sync_every = 1 + local() % 16;
      while (!stop.load()) {
        const std::uint64_t sequence = next_sequence.fetch_add(1);
        const auto position = writer.append(mlops::testing::as_bytes(payload_for(sequence)));
        if (!position) return;
        {
          const std::lock_guard lock(g_positions_mutex);
          g_positions[sequence] = *position;
        }
        unsynced.push_back(sequence);
        appended.fetch_add(1);
        if (unsynced.size() >= sync_every) {
          if (!writer.sync()) return;
          // Acknowledged only if the power was still on when the sync returned.
          const std::lock_guard lock(g_disk->mutex);
          if (g_disk->lost) return;
          const std::lock_guard round_lock(round_mutex);
          round.acknowledged.insert(unsynced.begin(), unsynced.end());
          unsynced.clear();
        }
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (appended.load() < loss_after && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  {
    // The power goes: what is durable stays as it is; a few pages were written back anyway.
    const std::lock_guard lock(g_disk->mutex);
    g_disk->lost = true;
    for (const auto& [path, bytes] : g_disk->files) {
      const int fd = ::open(path.c_str(), O_RDONLY);
      if (fd < 0) continue;
      for (std::size_t offset = 0; offset < bytes.size(); offset += kPage) {
        if (rng() % 8 == 0) extra[path][offset] = read_range(fd, offset, kPage);
      }
      ::close(fd);
    }
  }
  stop.store(true);
  for (auto& thread : threads) thread.join();
  round.appended = next_sequence.load();
  return round;
}

}  // namespace

TEST(MmapPowerLoss, FlushedRecordsSurviveEverySimulatedPowerLoss) {
  const char* text = std::getenv("MLOPS_POWER_LOSSES");
  const int losses = text != nullptr ? std::max(1, std::atoi(text)) : 1000;
  const fs::path root = mlops::testing::scratch_root("mlops-power");
  fs::remove_all(root);
  struct RemoveAtEnd {
    fs::path path;
    ~RemoveAtEnd() { fs::remove_all(path); }
  } cleanup{root};
  std::mt19937_64 rng(0x5EED);
  Disk disk;
  g_disk = &disk;
  mq::testing::set_sync_observer(&on_sync);
  std::uint64_t acknowledged_total = 0;
  std::uint64_t holes_reported = 0;
  std::uint64_t sequence = 0;
  std::set<std::uint64_t> acknowledged;  // Since the last fresh start.
  fs::path live = root / "0";

  for (int loss = 0; loss < losses; ++loss) {
    if (loss % 10 == 0) {  // A fresh queue now and then keeps the images small.
      acknowledged.clear();
      fs::remove_all(live);
      live = root / ("fresh-" + std::to_string(loss));
      fs::create_directories(live);
      fs::permissions(live, fs::perms::owner_all, fs::perm_options::replace);
      const std::lock_guard lock(disk.mutex);
      disk.files.clear();
      disk.entries.clear();
    }
    start_from(live, disk);
    std::map<std::string, std::map<std::size_t, std::string>> extra;
    const Round round = run_writers(live, sequence, rng, extra);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "loss " << loss;
    sequence = round.appended;
    acknowledged.insert(round.acknowledged.begin(), round.acknowledged.end());
    acknowledged_total += round.acknowledged.size();

    const fs::path image = root / std::to_string(loss + 1);
    materialise(live, image, disk, extra);
    {
      const std::lock_guard lock(disk.mutex);
      disk.files.clear();
      disk.entries.clear();
      disk.lost = false;
    }
    fs::remove_all(live);
    live = image;

    // Recovery: open the image, read everything, check every acknowledged record.
    auto queue = mq::Queue::open(live.string(), mlops::testing::small_segments(kSegmentBytes));
    ASSERT_TRUE(queue.has_value()) << "loss " << loss << ": " << queue.error().message;
    auto log = (*queue)->topic("t");
    ASSERT_TRUE(log.has_value()) << "loss " << loss << ": " << log.error().message;
    std::set<std::uint64_t> seen;
    std::vector<std::uint64_t> order;
    auto read_all = [&](mq::LogReader& reader) {
      const auto started = std::chrono::steady_clock::now();
      mlops::testing::read_available(
          reader,
          [&](const mq::LogRecord& record) {
            const std::string text = mlops::testing::as_text(record.payload);
            const std::uint64_t seq = sequence_of(text);
            ASSERT_NE(seq, UINT64_MAX) << "loss " << loss << ": foreign bytes delivered";
            ASSERT_EQ(text, payload_for(seq)) << "loss " << loss << ": torn record delivered";
            ASSERT_TRUE(seen.insert(seq).second) << "loss " << loss << ": " << seq << " read twice";
            order.push_back(seq);
          },
          5s);
      EXPECT_LT(std::chrono::steady_clock::now() - started, 5s)
          << "loss " << loss << ": reading hung";
    };
    mq::LogReader reader(*log, (*log)->earliest());
    read_all(reader);
    ASSERT_FALSE(::testing::Test::HasFailure());
    holes_reported += reader.damaged();
    for (const auto acked : acknowledged) {
      ASSERT_TRUE(seen.count(acked))
          << "loss " << loss << ": flushed record " << acked << " at position "
          << g_positions[acked] << " lost (tail " << (*log)->latest() << ", synced "
          << (*log)->control().synced.load() << ", first segment "
          << (*log)->control().first_segment.load() << ")";
    }
    // After recovery: new records are read, and what was recovered stays intact.
    {
      mq::LogWriter writer(*log);
      for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(writer.append(mlops::testing::as_bytes(payload_for(sequence + i))).has_value());
      }
      const auto synced = writer.sync();
      ASSERT_TRUE(synced.has_value()) << "loss " << loss << ": " << synced.error().message;
    }
    read_all(reader);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(seen.count(sequence + i)) << "loss " << loss << ": new record lost";
    const std::vector<std::uint64_t> first_pass = order;
    seen.clear();
    order.clear();
    mq::LogReader again(*log, (*log)->earliest());
    read_all(again);
    ASSERT_EQ(order, first_pass) << "loss " << loss
                                 << ": recovered records changed after new writes";
    ASSERT_FALSE(::testing::Test::HasFailure());
    sequence += 5;
    // Everything read now is on the disk the next round starts from.
    acknowledged.insert(seen.begin(), seen.end());
  }
  mq::testing::set_sync_observer(nullptr);
  std::printf("power loss: %d simulated, %llu records acknowledged, 0 lost, %llu holes skipped\n",
              losses, static_cast<unsigned long long>(acknowledged_total),
              static_cast<unsigned long long>(holes_reported));
}
