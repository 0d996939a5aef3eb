// mlops perf URI: producers (threads or processes) send at a rate or flat out, consumers
// receive; prints msgs/s, MB/s, end-to-end latency percentiles from the message timestamps,
// errors and back-pressure; --plot draws them (mlops_plot.py, matplotlib).

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "mlops/messaging/message_builder.h"
#include "mlops/orchestration/consumer.h"
#include "mlops/orchestration/producer.h"
#include "mlops/orchestration/topic_list.h"
#include "perf_stats.h"

namespace mlops::tool {
namespace {

using Clock = std::chrono::steady_clock;

struct PerfArgs {
  std::string uri;
  std::string topic;
  std::uint64_t size = 100;
  std::uint64_t count = 10000;
  std::uint64_t rate = 0;
  std::uint64_t producers = 1;
  std::uint64_t consumers = 1;
  std::string group;
  bool processes = false;
  bool json = false;
  std::string plot;
  std::vector<std::string> sets;
  std::int64_t timeout_ms = 10000;
};

// Latency samples kept per consumer.
constexpr std::size_t kMaxSamples = std::size_t{4} << 20;

// Timeline buckets for the longest run drawn in detail (later events land in the last).
constexpr std::size_t kMaxBuckets = 3600 * 10;

struct ProducerCounts {
  std::uint64_t sent = 0, errors = 0, back_pressured = 0;
  std::int64_t first_ns = 0, last_ns = 0;  // since the run's start
  std::vector<std::uint64_t> per_second;
};

struct Shared {
  std::string tag;  // the creator of this run's messages: consumers count only those
  std::string payload;
  Clock::time_point start;
  std::unique_ptr<Timeline> timeline;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> producers_done{false};
  std::atomic<std::uint64_t> sent_total{0};  // valid once producers_done
  std::mutex mutex;
  std::vector<std::int64_t> latencies;
  std::int64_t last_receive_ns = 0;
  std::string error;
};

std::int64_t since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// One producer's loop: `count` messages at `rate` per second (0: flat out).
ProducerCounts produce(const orchestration::Orchestration& orch, const PerfArgs& args,
                       Shared& shared, std::uint64_t count, double rate, Timeline* timeline) {
  ProducerCounts counts;
  orchestration::ProducerOptions options;
  options.back_pressure = orchestration::BackPressure::kReturn;  // counted, then tried again
  auto producer = orchestration::Producer::create(orch, args.topic, options);
  if (!producer) {
    counts.errors = count;
    const std::lock_guard lock(shared.mutex);
    shared.error = producer.error().message;
    return counts;
  }
  messaging::MessageBuilder builder(shared.payload.size() + 512);
  const auto begin = Clock::now();
  counts.first_ns = since(shared.start);
  const auto give_up_after = std::chrono::milliseconds(args.timeout_ms);
  for (std::uint64_t i = 0; i < count && !g_stop_requested.load(); ++i) {
    if (rate > 0) {
      // Pacing to the asked rate, not waiting for anything to settle.
      const auto due = begin + std::chrono::nanoseconds(
                                   static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate));
      std::this_thread::sleep_until(due);
    }
    builder.with_creator(shared.tag)
        .with_msg_type(messaging::MessageType::INPROGRESS)
        .with_user_msg(shared.payload);
    const auto message = builder.build_view();
    auto status = producer->send(message);
    const auto pressed_since = Clock::now();
    while (status == orchestration::Status::kBackPressured &&
           Clock::now() - pressed_since < give_up_after && !g_stop_requested.load()) {
      ++counts.back_pressured;
      std::this_thread::yield();
      status = producer->send(message);
    }
    if (status == orchestration::Status::kOk) {
      ++counts.sent;
      shared.sent.fetch_add(1, std::memory_order_relaxed);
      if (timeline != nullptr) timeline->add_sent(since(shared.start));
    } else {
      ++counts.errors;
    }
  }
  if (producer->close() != orchestration::Status::kOk) ++counts.errors;
  counts.last_ns = since(shared.start);
  return counts;
}

void consume(const orchestration::Orchestration& orch, const PerfArgs& args, Shared& shared,
             const std::string& group, std::atomic<int>& ready) {
  orchestration::ConsumerOptions options;
  options.group = group;
  options.offset_reset = orchestration::OffsetReset::kEarliest;
  auto consumer = orchestration::Consumer::create(args.topic, orch, options);
  if (!consumer) {
    const std::lock_guard lock(shared.mutex);
    shared.error = consumer.error().message;
    ready.fetch_add(1);
    return;
  }
  std::vector<messaging::MLOpsMessage> batch;
  (void)consumer->receive(batch, {}, std::chrono::milliseconds(50));  // joins the group first
  ready.fetch_add(1);
  // At most kMaxSamples latencies per consumer (a reservoir: each message equally likely
  // kept), so a run of billions of messages measures in bounded memory.
  std::vector<std::int64_t> latencies;
  std::int64_t slowest = 0;
  std::minstd_rand random(12345);
  std::uint64_t mine = 0;
  auto last_message = Clock::now();
  const auto drain = std::chrono::milliseconds(args.timeout_ms);
  auto count = [&](const messaging::MLOpsMessage& message) {
    if (message.creator() != shared.tag) return;  // another run's, or someone else's
    const std::int64_t now = now_unix_ns();
    const std::int64_t latency = now - message.timestamp().value_or(now);
    slowest = std::max(slowest, latency);
    if (latencies.size() < kMaxSamples) {
      latencies.push_back(latency);
    } else if (const auto slot = random() % (mine + 1); slot < kMaxSamples) {
      latencies[slot] = latency;
    }
    ++mine;
    shared.received.fetch_add(1, std::memory_order_relaxed);
    shared.timeline->add_received(since(shared.start));
  };
  for (const auto& message : batch) count(message);
  while (!g_stop_requested.load()) {
    const auto status = consumer->receive(batch, {}, std::chrono::milliseconds(100));
    if (status == orchestration::Status::kOk) {
      last_message = Clock::now();
      for (const auto& message : batch) count(message);
    } else if (status != orchestration::Status::kTimeout) {
      const std::lock_guard lock(shared.mutex);
      shared.error = "receive failed: " + std::string(orchestration::to_string(status));
      break;
    }
    if (shared.producers_done.load()) {
      // Each consumer is its own group, so it expects every message sent.
      if (mine >= shared.sent_total.load()) break;
      if (Clock::now() - last_message > drain) break;
    }
  }
  consumer->close();
  const std::lock_guard lock(shared.mutex);
  // The reservoir may have dropped the slowest: keep it, so max is exact.
  if (!latencies.empty() && *std::max_element(latencies.begin(), latencies.end()) < slowest) {
    latencies[0] = slowest;
  }
  shared.latencies.insert(shared.latencies.end(), latencies.begin(), latencies.end());
  shared.last_receive_ns = std::max(shared.last_receive_ns, since(shared.start));
}

std::string plot_script() {
  if (const char* given = std::getenv("MLOPS_PLOT_SCRIPT")) return given;
  char self[4096];
  const auto length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return "mlops_plot.py";
  const std::string exe(self, static_cast<std::size_t>(length));
  const std::string dir = exe.substr(0, exe.rfind('/'));
  for (const auto& candidate : {dir + "/mlops_plot.py", dir + "/../share/mlops/mlops_plot.py"}) {
    if (::access(candidate.c_str(), R_OK) == 0) return candidate;
  }
  return dir + "/../share/mlops/mlops_plot.py";
}

// Runs the plot script on the run's data. @return an error message, or empty.
std::string draw(const PerfResult& result, const std::string& png) {
  char data_path[] = "/tmp/mlops-perf-XXXXXX";
  const int fd = ::mkstemp(data_path);
  if (fd < 0) return std::string("cannot make a temporary file: ") + std::strerror(errno);
  const std::string data = plot_data(result, 200000);
  const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  std::string problem;
  if (!written) {
    problem = "cannot write the plot data";
  } else {
    const std::string script = plot_script();
    const char* python = std::getenv("MLOPS_PYTHON");
    const std::string interpreter =
        python ? python
               : (::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3");
    const pid_t child = ::fork();
    if (child == 0) {
      ::execlp(interpreter.c_str(), interpreter.c_str(), script.c_str(), data_path, png.c_str(),
               static_cast<char*>(nullptr));
      std::fprintf(stderr, "mlops perf: cannot run %s: %s\n", interpreter.c_str(),
                   std::strerror(errno));
      ::_exit(127);
    }
    int status = 0;
    if (child < 0 || ::waitpid(child, &status, 0) != child) {
      problem = "cannot run the plot script";
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      problem = "the plot script " + script + " failed";
    } else if (::access(png.c_str(), R_OK) != 0) {
      problem = "the plot script wrote no " + png;
    }
  }
  ::unlink(data_path);
  return problem;
}

// Forks `n` producer processes before this process starts any thread; each waits for a byte
// on `go` and writes its counts as one line to `out`.
struct Children {
  std::vector<pid_t> pids;
  int go_write = -1;
  int counts_read = -1;
};

std::string encode_counts(const ProducerCounts& c) {
  std::string line = std::to_string(c.sent) + " " + std::to_string(c.errors) + " " +
                     std::to_string(c.back_pressured) + " " + std::to_string(c.first_ns) + " " +
                     std::to_string(c.last_ns);
  for (const auto n : c.per_second) line += " " + std::to_string(n);
  return line + "\n";
}

Result<Children> fork_producers(const PerfArgs& args, Shared& shared) {
  int go[2], counts[2];
  if (::pipe(go) != 0 || ::pipe(counts) != 0) return Error{ErrorCode::kUnavailable, "pipe failed"};
  Children children;
  for (std::uint64_t p = 0; p < args.producers; ++p) {
    const pid_t pid = ::fork();
    if (pid < 0)
      return Error{ErrorCode::kUnavailable, std::string("fork failed: ") + std::strerror(errno)};
    if (pid == 0) {
      ::close(go[1]);
      ::close(counts[0]);
      char byte = 0;
      if (::read(go[0], &byte, 1) != 1) ::_exit(1);  // the parent gave up
      auto orch = open_uri(args.uri, args.sets);
      ProducerCounts result;
      if (!orch) {
        result.errors = 1;
      } else {
        const std::uint64_t count =
            args.count / args.producers + (p < args.count % args.producers ? 1 : 0);
        const double rate = static_cast<double>(args.rate) / static_cast<double>(args.producers);
        Timeline timeline(kMaxBuckets);
        result = produce(*orch, args, shared, count, rate, &timeline);
        result.per_second = timeline.sent();
      }
      const std::string line = encode_counts(result);
      (void)!::write(counts[1], line.data(), line.size());
      ::_exit(0);
    }
    children.pids.push_back(pid);
  }
  ::close(go[0]);
  ::close(counts[1]);
  children.go_write = go[1];
  children.counts_read = counts[0];
  return children;
}

std::vector<ProducerCounts> collect(Children& children) {
  std::string text;
  char chunk[4096];
  while (true) {
    const auto got = ::read(children.counts_read, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(children.counts_read);
  for (const pid_t pid : children.pids) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::vector<ProducerCounts> all;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    ProducerCounts c;
    fields >> c.sent >> c.errors >> c.back_pressured >> c.first_ns >> c.last_ns;
    std::uint64_t n = 0;
    while (fields >> n) c.per_second.push_back(n);
    all.push_back(std::move(c));
  }
  return all;
}

int run(PerfArgs args) {
  if (args.producers == 0 && args.consumers == 0)
    return usage_error("perf", "nothing to do: no producers and no consumers");
  if (!args.topic.empty() && !orchestration::is_valid_topic_name(args.topic)) {
    return usage_error("perf", "invalid topic name '" + args.topic +
                                   "': topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or ..");
  }
  if (args.topic.empty()) {
    args.topic = "mlops-perf-" + std::to_string(::getpid()) + "-" +
                 std::to_string(now_unix_ns() / 1'000'000 % 100'000'000);
  }
  if (args.group.empty()) args.group = args.topic;
  auto shared = std::make_unique<Shared>();
  shared->tag = "mlops-perf-" + std::to_string(::getpid()) + "-" + std::to_string(now_unix_ns());
  shared->payload.assign(args.size, 'x');
  shared->timeline = std::make_unique<Timeline>(kMaxBuckets);
  shared->start = Clock::now();

  // Processes are forked before this process makes any thread or backend client.
  std::optional<Children> children;
  if (args.processes && args.producers > 0) {
    auto forked = fork_producers(args, *shared);
    if (!forked) return fail("perf", forked.error().message);
    children = std::move(*forked);
  }
  auto orch = open_uri(args.uri, args.sets);
  if (!orch) {
    if (children) ::close(children->go_write);
    return fail("perf", orch.error().message);
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> consumers;
  for (std::uint64_t c = 0; c < args.consumers; ++c) {
    const std::string group =
        args.consumers == 1 ? args.group : args.group + "-" + std::to_string(c);
    consumers.emplace_back([&, group] { consume(*orch, args, *shared, group, ready); });
  }
  const auto ready_deadline = Clock::now() + std::chrono::milliseconds(args.timeout_ms);
  while (ready.load() < static_cast<int>(args.consumers) && Clock::now() < ready_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a counter, bounded
  }
  shared->start = Clock::now();
  const std::int64_t wall_start_ns = now_unix_ns();
  (void)wall_start_ns;

  // Progress on a terminal, for runs longer than a second.
  std::atomic<bool> finished{false};
  std::thread progress([&] {
    if (::isatty(STDERR_FILENO) != 1) return;
    auto next = Clock::now() + std::chrono::seconds(1);
    bool shown = false;
    while (!finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (Clock::now() < next) continue;
      next += std::chrono::seconds(1);
      std::fprintf(stderr, "\rmlops perf: %.0f s, sent %llu, received %llu   ",
                   static_cast<double>(since(shared->start)) / 1e9,
                   static_cast<unsigned long long>(shared->sent.load()),
                   static_cast<unsigned long long>(shared->received.load()));
      shown = true;
    }
    if (shown) std::fprintf(stderr, "\r%60s\r", "");
  });

  std::vector<ProducerCounts> produced;
  if (children) {
    const std::string go(args.producers, 'g');
    (void)!::write(children->go_write, go.data(), go.size());
    ::close(children->go_write);
    produced = collect(*children);
  } else {
    std::vector<std::thread> producers;
    produced.resize(args.producers);
    for (std::uint64_t p = 0; p < args.producers; ++p) {
      const std::uint64_t count =
          args.count / args.producers + (p < args.count % args.producers ? 1 : 0);
      const double rate = static_cast<double>(args.rate) / static_cast<double>(args.producers);
      producers.emplace_back([&, p, count, rate] {
        produced[p] = produce(*orch, args, *shared, count, rate, shared->timeline.get());
      });
    }
    for (auto& thread : producers) thread.join();
  }
  PerfResult result;
  result.uri = args.uri;
  result.topic = args.topic;
  result.mode = args.processes ? "processes" : "threads";
  result.producers = args.producers;
  result.consumers = args.consumers;
  result.rate = args.rate;
  std::int64_t first_ns = INT64_MAX, last_ns = 0;
  for (const auto& c : produced) {
    result.sent += c.sent;
    result.errors += c.errors;
    result.back_pressured += c.back_pressured;
    first_ns = std::min(first_ns, c.first_ns);
    last_ns = std::max(last_ns, c.last_ns);
  }
  shared->sent_total.store(result.sent);
  shared->producers_done.store(true);
  for (auto& thread : consumers) thread.join();
  finished.store(true);
  progress.join();

  {
    messaging::MessageBuilder probe;
    result.size = probe.with_creator(shared->tag)
                      .with_msg_type(messaging::MessageType::INPROGRESS)
                      .with_user_msg(shared->payload)
                      .build()
                      .bytes()
                      .size();
  }
  result.expected = result.sent * args.consumers;
  result.received = shared->received.load();
  result.send_seconds =
      produced.empty() ? 0 : static_cast<double>(last_ns - std::min(first_ns, last_ns)) / 1e9;
  result.receive_seconds = static_cast<double>(shared->last_receive_ns) / 1e9;
  result.latencies_ns = std::move(shared->latencies);
  finish(result);
  if (children) {
    std::vector<std::uint64_t> per_second;
    for (const auto& c : produced) {
      if (per_second.size() < c.per_second.size()) per_second.resize(c.per_second.size());
      for (std::size_t i = 0; i < c.per_second.size(); ++i) per_second[i] += c.per_second[i];
    }
    result.sent_per_second = per_second;
    result.received_per_second = shared->timeline->received();
  } else {
    result.sent_per_second = shared->timeline->sent();
    result.received_per_second = shared->timeline->received();
  }
  write_stdout(args.json ? json_summary(result) + "\n" : text_summary(result));
  flush_stdout();
  int status = kExitOk;
  if (!shared->error.empty()) status = fail("perf", shared->error);
  if (!args.plot.empty()) {
    if (auto problem = draw(result, args.plot); !problem.empty()) status = fail("perf", problem);
  }
  if (status == kExitOk && result.errors > 0)
    status = fail("perf", std::to_string(result.errors) + " send(s) failed");
  if (status == kExitOk && result.received < result.expected && args.consumers > 0 &&
      !g_stop_requested.load()) {
    status = fail("perf", "received " + std::to_string(result.received) + " of " +
                              std::to_string(result.expected) +
                              " messages within the --timeout after the last send");
  }
  return status;
}

}  // namespace

void add_perf_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PerfArgs>();
  auto* cmd = app.add_subcommand("perf",
                                 "Load generator: send and receive, report msgs/s, MB/s, "
                                 "end-to-end latency, errors, back-pressure.\n"
                                 "Consumers subscribe before the producers start; on kafka a new "
                                 "group's first join (seconds)\n"
                                 "still falls inside the run, so the first latencies include it: "
                                 "use --rate and a longer --count.");
  cmd->add_option("URI", args->uri, "Where: mmap:///DIR, kafka://HOST:PORT, ...")->required();
  cmd->add_option("--topic", args->topic, "Topic (default: a fresh one per run)");
  cmd->add_option("--size", args->size, "Payload bytes per message")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{64} << 20));
  cmd->add_option("--count", args->count, "Messages to send in all")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  cmd->add_option("--rate", args->rate, "Messages per second in all (0: flat out)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32));
  cmd->add_option("--producers", args->producers, "Producers")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{256}));
  cmd->add_option("--consumers", args->consumers,
                  "Consumers, each its own group (every one receives every message)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{256}));
  cmd->add_option("--group", args->group,
                  "Consumer group name (with several consumers: NAME-0, NAME-1, ...)");
  cmd->add_flag("--processes", args->processes,
                "Producers in processes of their own (default: threads)");
  cmd->add_flag("--json", args->json, "One JSON object instead of the text summary");
  cmd->add_option("--plot", args->plot,
                  "Draw a latency histogram and throughput over time into FILE.png");
  cmd->add_option("--set", args->sets,
                  "Backend option KEY=VALUE (compare settings run against run)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--timeout", args->timeout_ms,
                  "How long consumers wait for the rest after the last send, ms")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace mlops::tool
