// mlops topics URI            topics with message counts and bytes
// mlops groups URI [TOPIC]    groups with committed position, end and lag (Admin::lag)

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "commands.h"
#include "library_log.h"
#include "mlops/orchestration/admin.h"

namespace mlops::tool {
namespace {

struct ListArgs {
  std::string uri;
  std::string topic;
  std::vector<std::string> groups;  // none given: every group
  std::vector<std::string> sets;
  bool json = false;
};

std::string optional_number(const std::optional<std::uint64_t>& value, std::string_view absent) {
  return value ? std::to_string(*value) : std::string(absent);
}

// `skipped`: set to the library's error when the listing left topics out.
Result<std::vector<orchestration::TopicLag>> read_lag(std::string_view command,
                                                      const ListArgs& args,
                                                      std::optional<std::string>* skipped) {
  if (auto missing = missing_mmap_queue(args.uri)) return Error{ErrorCode::kNotFound, *missing};
  auto orch = open_uri(args.uri, args.sets);
  if (!orch) return orch.error();
  auto admin = orchestration::Admin::create(*orch);
  if (!admin) return admin.error();
  // topics asks for no groups at all: a broker that cannot list them still counts messages.
  std::optional<std::vector<std::string>> groups;
  if (command == "topics" || !args.groups.empty())
    groups = command == "topics" ? std::vector<std::string>{} : args.groups;
  const auto error_before = last_library_error();
  auto lags = admin->lag(args.topic, groups);
  // A listing leaves out a topic it cannot read (a damaged mmap topic) and logs why.
  if (lags) {
    if (auto error = last_library_error(); error && error != error_before)
      *skipped = std::move(*error);
  }
  return lags;
}

// After the listing: the topics it left out, on stderr, and a failing exit.
int finish(std::string_view command, const std::optional<std::string>& skipped) {
  return skipped ? fail(command, *skipped) : kExitOk;
}

int run_topics(const ListArgs& args) {
  std::optional<std::string> skipped;
  auto lags = read_lag("topics", args, &skipped);
  if (!lags) {
    if (lags.error().code != ErrorCode::kUnavailable ||
        lags.error().message.find("keeps no") == std::string::npos) {
      return fail("topics", lags.error().message);
    }
    // A backend without positions still lists its topics.
    auto orch = open_uri(args.uri, args.sets);
    if (!orch) return fail("topics", orch.error().message);
    auto admin = orchestration::Admin::create(*orch);
    if (!admin) return fail("topics", admin.error().message);
    auto names = admin->topics();
    if (!names) return fail("topics", names.error().message);
    for (const auto& name : *names) {
      if (!write_stdout(args.json ? "{\"topic\":" + json_quote(name) + "}\n" : name + '\n')) break;
    }
    return kExitOk;
  }
  if (!args.json) {
    char line[512];
    std::snprintf(line, sizeof line, "%-32s %12s %14s\n", "TOPIC", "MESSAGES", "BYTES");
    write_stdout(line);
  }
  for (const auto& topic : *lags) {
    std::string out;
    if (args.json) {
      out = "{\"topic\":" + json_quote(topic.topic) +
            ",\"messages\":" + std::to_string(topic.messages) +
            ",\"bytes\":" + optional_number(topic.bytes, "null") +
            ",\"start\":" + std::to_string(topic.start) + ",\"end\":" + std::to_string(topic.end) +
            "}\n";
    } else {
      char line[512];
      std::snprintf(line, sizeof line, "%-32s %12llu %14s\n", topic.topic.c_str(),
                    static_cast<unsigned long long>(topic.messages),
                    optional_number(topic.bytes, "-").c_str());
      out = line;
    }
    if (!write_stdout(out)) break;
  }
  return finish("topics", skipped);
}

int run_groups(const ListArgs& args) {
  std::optional<std::string> skipped;
  auto lags = read_lag("groups", args, &skipped);
  if (!lags) return fail("groups", lags.error().message);
  if (!args.json) {
    char line[512];
    std::snprintf(line, sizeof line, "%-24s %-24s %16s %16s %10s\n", "TOPIC", "GROUP", "COMMITTED",
                  "END", "LAG");
    write_stdout(line);
  }
  for (const auto& topic : *lags) {
    for (const auto& group : topic.groups) {
      std::string out;
      if (args.json) {
        out = "{\"topic\":" + json_quote(topic.topic) + ",\"group\":" + json_quote(group.group) +
              ",\"committed\":" + optional_number(group.committed, "null") +
              ",\"end\":" + std::to_string(topic.end) + ",\"lag\":" + std::to_string(group.lag) +
              "}\n";
      } else {
        char line[700];
        std::snprintf(line, sizeof line, "%-24s %-24s %16s %16llu %10llu\n", topic.topic.c_str(),
                      group.group.c_str(), optional_number(group.committed, "-").c_str(),
                      static_cast<unsigned long long>(topic.end),
                      static_cast<unsigned long long>(group.lag));
        out = line;
      }
      if (!write_stdout(out)) return kExitOk;
    }
  }
  return finish("groups", skipped);
}

void common_options(CLI::App* cmd, ListArgs& args) {
  cmd->add_option("URI", args.uri, "Where: mmap:///DIR, kafka://HOST:PORT, ...")->required();
  cmd->add_option("--set", args.sets, "Backend option KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--json", args.json, "One JSON object per line instead of a table");
}

}  // namespace

void add_topics_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ListArgs>();
  auto* cmd = app.add_subcommand("topics", "List topics with their message counts and bytes");
  common_options(cmd, *args);
  cmd->callback([args, &exit_code] { exit_code = run_topics(*args); });
}

void add_groups_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ListArgs>();
  auto* cmd = app.add_subcommand("groups",
                                 "List consumer groups per topic: committed position, end of the "
                                 "log, lag (messages not committed)");
  common_options(cmd, *args);
  cmd->add_option("TOPIC", args->topic, "Only this topic");
  cmd->add_option("--group", args->groups,
                  "Only this group (repeat; kafka: name groups a broker cannot list)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([args, &exit_code] { exit_code = run_groups(*args); });
}

}  // namespace mlops::tool
