// mlops inspect DIR: an mmap queue's layout, read-only (mmap_inspector.h).

#include <CLI/CLI.hpp>

#include <memory>

#include "cli.h"
#include "commands.h"
#include "mmap_inspector.h"

namespace mlops::tool {
namespace {

struct InspectArgs {
  std::string directory;
  bool json = false;
};

std::string text_report(const TopicReport& topic) {
  std::string out = "topic " + topic.name;
  if (topic.problem) return out + ": " + *topic.problem + "\n";
  std::uint64_t published = 0, skipped = 0, pending = 0, damaged = 0;
  for (const auto& segment : topic.segments) {
    published += segment.published;
    skipped += segment.skipped;
    pending += segment.pending;
    damaged += segment.damage.size();
  }
  out += ": segment_bytes " + std::to_string(topic.segment_bytes) + ", tail " +
         std::to_string(topic.tail) + ", first segment " + std::to_string(topic.first_segment) +
         ", synced " + std::to_string(topic.synced) + ", " + std::to_string(topic.bytes_on_disk) +
         " bytes on disk\n";
  out += "  records: published " + std::to_string(published) + ", skipped " +
         std::to_string(skipped) + ", pending " + std::to_string(pending) + ", damaged ranges " +
         std::to_string(damaged) + "\n";
  for (const auto& segment : topic.segments) {
    out += "  segment " + std::to_string(segment.index) + ": published " +
           std::to_string(segment.published) + " (" + std::to_string(segment.published_bytes) +
           " payload bytes), skipped " + std::to_string(segment.skipped) + ", pending " +
           std::to_string(segment.pending) + ", " + std::to_string(segment.bytes_on_disk) +
           " bytes on disk\n";
    for (const auto& damage : segment.damage) out += "    damaged " + damage + "\n";
  }
  for (const auto& [group, committed] : topic.groups) {
    out += "  group " + group + ": committed " +
           (committed ? std::to_string(*committed) : std::string("none")) + "\n";
  }
  return out;
}

std::string json_report(const TopicReport& topic) {
  std::string out = "{\"topic\":" + json_quote(topic.name);
  if (topic.problem) return out + ",\"problem\":" + json_quote(*topic.problem) + "}\n";
  out += ",\"segment_bytes\":" + std::to_string(topic.segment_bytes) +
         ",\"tail\":" + std::to_string(topic.tail) +
         ",\"first_segment\":" + std::to_string(topic.first_segment) +
         ",\"synced\":" + std::to_string(topic.synced) +
         ",\"bytes_on_disk\":" + std::to_string(topic.bytes_on_disk) + ",\"segments\":[";
  for (std::size_t i = 0; i < topic.segments.size(); ++i) {
    const auto& s = topic.segments[i];
    out += std::string(i ? "," : "") + "{\"index\":" + std::to_string(s.index) +
           ",\"published\":" + std::to_string(s.published) +
           ",\"skipped\":" + std::to_string(s.skipped) +
           ",\"pending\":" + std::to_string(s.pending) + ",\"damaged\":[";
    for (std::size_t d = 0; d < s.damage.size(); ++d)
      out += std::string(d ? "," : "") + json_quote(s.damage[d]);
    out += "]}";
  }
  out += "],\"groups\":{";
  for (std::size_t i = 0; i < topic.groups.size(); ++i) {
    const auto& [group, committed] = topic.groups[i];
    out += std::string(i ? "," : "") + json_quote(group) + ":" +
           (committed ? std::to_string(*committed) : std::string("null"));
  }
  return out + "}}\n";
}

int run(const InspectArgs& args) {
  auto topics = inspect_queue(args.directory);
  if (!topics) return fail("inspect", topics.error().message);
  for (const auto& topic : *topics) {
    if (!write_stdout(args.json ? json_report(topic) : text_report(topic))) return kExitOk;
  }
  if (topics->empty() && !args.json) write_stdout("no topics in " + args.directory + "\n");
  return kExitOk;
}

}  // namespace

void add_inspect_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect",
                                 "Show an mmap queue's layout read-only: segments, records, "
                                 "damage, groups (safe while it is written)");
  cmd->add_option("DIR", args->directory, "The queue's directory (what mmap:///DIR names)")
      ->required();
  cmd->add_flag("--json", args->json, "One JSON object per topic");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace mlops::tool
