// mlops tail URI TOPIC [--group G] [--from earliest|latest|time:ISO8601] [--count N]
//                      [--timeout MS] [--follow] [--format text|json|raw] [--commit]

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "message_text.h"
#include "mlops/orchestration/admin.h"
#include "mlops/orchestration/consumer.h"
#include "mlops/orchestration/topic_list.h"

namespace mlops::tool {
namespace {

struct TailArgs {
  std::string uri;
  std::string topic;
  std::string group;
  std::string from = "earliest";
  std::uint64_t count = 0;
  std::int64_t timeout_ms = 1000;
  bool follow = false;
  std::string format = "text";
  bool commit = false;
  std::vector<std::string> sets;
};

// The longest one receive() waits, so that Ctrl-C and --follow's checks come soon.
constexpr std::chrono::milliseconds kReceiveSlice{200};

int run(const TailArgs& args) {
  std::optional<std::int64_t> since_ns;
  orchestration::ConsumerOptions options;
  options.auto_commit = false;  // only --commit moves a group
  // A viewer: no retry topic or group of its own (`<topic>.retry`), no dead letters.
  options.max_retries = 0;
  options.dead_letter_corrupt = false;
  if (args.from == "earliest") {
    options.offset_reset = orchestration::OffsetReset::kEarliest;
  } else if (args.from == "latest") {
    options.offset_reset = orchestration::OffsetReset::kLatest;
  } else if (args.from.starts_with("time:")) {
    since_ns = parse_iso8601(std::string_view(args.from).substr(5));
    if (!since_ns) {
      return usage_error("tail", "--from '" + args.from +
                                     "': the time is not ISO 8601 (time:2026-11-30T03:45:00Z)");
    }
    options.offset_reset = orchestration::OffsetReset::kEarliest;
  } else {
    return usage_error("tail",
                       "--from '" + args.from + "' is not earliest, latest or time:ISO8601");
  }
  if (!orchestration::is_valid_topic_name(args.topic)) {
    return usage_error("tail", "invalid topic name '" + args.topic +
                                   "': topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or ..");
  }
  if (args.commit && args.group.empty()) {
    return usage_error("tail", "--commit needs --group: without one no group is moved");
  }
  options.group = args.group;
  if (auto missing = missing_mmap_queue(args.uri)) return fail("tail", *missing);
  auto orch = open_uri(args.uri, args.sets);
  if (!orch) return fail("tail", orch.error().message);
  {
    // Subscribing would create a missing topic (mmap); a reader must not.
    auto admin = orchestration::Admin::create(*orch);
    if (!admin) return fail("tail", admin.error().message);
    auto topics = admin->topics();
    if (!topics) return fail("tail", topics.error().message);
    if (std::find(topics->begin(), topics->end(), args.topic) == topics->end()) {
      return fail("tail", "no topic '" + args.topic + "' at " + args.uri);
    }
  }
  auto consumer = orchestration::Consumer::create(args.topic, *orch, options);
  if (!consumer) return fail("tail", consumer.error().message);

  std::uint64_t printed = 0;
  std::vector<messaging::MLOpsMessage> batch;
  auto quiet_since = std::chrono::steady_clock::now();
  const auto idle_limit = std::chrono::milliseconds(args.timeout_ms);
  bool output_open = true;
  while (output_open && !g_stop_requested.load() && (args.count == 0 || printed < args.count)) {
    const std::size_t max = args.count == 0 ? 0 : static_cast<std::size_t>(args.count - printed);
    const auto status =
        consumer->receive(batch, {}, kReceiveSlice, std::min<std::size_t>(max, 256));
    if (status == orchestration::Status::kTimeout) {
      if (!args.follow && std::chrono::steady_clock::now() - quiet_since >= idle_limit) break;
      continue;
    }
    if (status != orchestration::Status::kOk) {
      return fail("tail", "receive failed: " + std::string(orchestration::to_string(status)));
    }
    quiet_since = std::chrono::steady_clock::now();
    for (const auto& message : batch) {
      if (since_ns && message.timestamp().value_or(0) < *since_ns) continue;
      std::string out;
      if (args.format == "json") {
        auto json = message.to_json();
        if (!json) return fail("tail", json.error().message);
        out = std::move(*json);
        out += '\n';
      } else if (args.format == "raw") {
        out = to_frame(message);
      } else {
        out = to_text_line(message);
      }
      if (!write_stdout(out)) {
        output_open = false;
        break;
      }
      ++printed;
    }
    if (output_open) output_open = flush_stdout();
    // Commit only what reached the output; a closed pipe leaves the rest to the group.
    if (args.commit && output_open && consumer->commit() != orchestration::Status::kOk) {
      return fail("tail", "commit failed");
    }
  }
  consumer->close();
  return kExitOk;
}

}  // namespace

void add_tail_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TailArgs>();
  auto* cmd = app.add_subcommand("tail", "Print a topic's messages, one per line");
  cmd->add_option("URI", args->uri, "Where: mmap:///DIR, kafka://HOST:PORT, ...")->required();
  cmd->add_option("TOPIC", args->topic, "The topic to read")->required();
  cmd->add_option("--group", args->group,
                  "Read as this consumer group (without: no group is joined or moved)");
  cmd->add_option("--from", args->from,
                  "earliest, latest or time:ISO8601 (a new group, or no group, starts there)");
  cmd->add_option("--count", args->count, "Stop after N messages (0: no limit)");
  cmd->add_option("--timeout", args->timeout_ms,
                  "Stop once nothing came for MS milliseconds (not with --follow)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{86'400'000}));
  cmd->add_flag("--follow,-f", args->follow,
                "Keep waiting for new messages until Ctrl-C or --count");
  cmd->add_option("--format", args->format,
                  "text (a short line), json (one line each), raw (4-byte LE length + bytes)")
      ->check(CLI::IsMember({"text", "json", "raw"}));
  cmd->add_flag("--commit", args->commit, "With --group: commit what was printed");
  cmd->add_option("--set", args->sets, "Backend option KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace mlops::tool
