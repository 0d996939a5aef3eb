// mlops send URI TOPIC [fields] [--count N] [--flush] | --json - [--keep-going]

#include <CLI/CLI.hpp>

#include <atomic>
#include <charconv>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "library_log.h"
#include "message_text.h"
#include "mlops/messaging/message_builder.h"
#include "mlops/orchestration/producer.h"
#include "mlops/orchestration/topic_list.h"

namespace mlops::tool {
namespace {

using messaging::MessageBuilder;

struct SendArgs {
  std::string uri;
  std::string topic;
  std::optional<std::string> type, creator, creator_type, stage, user_msg, key;
  std::vector<std::string> next_task, output, recipient, args, sets;
  std::optional<std::int32_t> retries;
  std::uint64_t count = 1;
  bool flush = false;
  std::optional<std::string> json;
  bool keep_going = false;
  std::int64_t flush_timeout_ms = 10000;
};

// "3" is a number, "true"/"false"/"null" what they say, "\"3\"" the text 3; anything
// else is text as given.
messaging::Value argument_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text == "null") return nullptr;
  std::int64_t integer = 0;
  if (auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
      error == std::errc() && end == text.data() + text.size() && !text.empty()) {
    return integer;
  }
  double real = 0;
  if (auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), real);
      error == std::errc() && end == text.data() + text.size() && !text.empty()) {
    return real;
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    return text.substr(1, text.size() - 2);
  return text;
}

template <typename Set>
void set_list(MessageBuilder& builder, const std::vector<std::string>& values, Set set) {
  if (values.size() == 1) {
    set(builder, std::string_view(values.front()));
  } else if (!values.empty()) {
    set(builder, values);
  }
}

// Fills `builder` from the flags. @return an error message for a bad value, else nullopt.
std::optional<std::string> fill(MessageBuilder& builder, const SendArgs& args) {
  if (args.type) {
    const auto type = messaging::from_string<messaging::MessageType>(*args.type);
    if (!type)
      return "unknown --type '" + *args.type +
             "' (START, COMPLETE, FAIL, INPROGRESS, RETRY, OTHER)";
    builder.with_msg_type(*type);
  }
  if (args.stage) {
    const auto stage = messaging::from_string<messaging::Stage>(*args.stage);
    if (!stage) return "unknown --stage '" + *args.stage + "'";
    builder.with_stage(*stage);
  }
  if (args.creator) builder.with_creator(*args.creator);
  if (args.creator_type) builder.with_creator_type(std::string_view(*args.creator_type));
  if (args.user_msg) builder.with_user_msg(*args.user_msg);
  if (args.key) builder.with_key(*args.key);
  if (args.retries) builder.with_retries(*args.retries);
  set_list(builder, args.next_task, [](MessageBuilder& b, const auto& v) { b.with_next_task(v); });
  set_list(builder, args.output, [](MessageBuilder& b, const auto& v) { b.with_output(v); });
  set_list(builder, args.recipient, [](MessageBuilder& b, const auto& v) { b.with_recipient(v); });
  for (const auto& arg : args.args) {
    const auto pair = split_key_value(arg);
    if (!pair) return "--arg '" + arg + "' is not KEY=VALUE";
    builder.with_additional_argument(pair->first, argument_value(pair->second));
  }
  return std::nullopt;
}

// What the delivery reports said: held, or certainly not held (refused, given up unsent).
struct Outcomes {
  std::atomic<std::uint64_t> held{0};
  std::atomic<std::uint64_t> not_held{0};
};

// The failure line when some messages are certainly not held: how many, why (the
// library's last error: a server's refusal), and how many are still unknown.
std::string not_held_text(const Outcomes& outcomes, std::uint64_t sent) {
  const std::uint64_t not_held = outcomes.not_held.load();
  const std::uint64_t known = not_held + outcomes.held.load();
  std::string text =
      std::to_string(not_held) + " of " + std::to_string(sent) +
      " message(s) NOT stored: " + last_library_error().value_or("the backend refused them");
  if (sent > known) text += "; " + std::to_string(sent - known) + " may or may not be held";
  return text;
}

// Sends one message; on failure reports it. @return whether it was sent.
bool send_one(orchestration::Producer& producer, const std::string& topic,
              const messaging::MLOpsMessage& message, std::string& problem) {
  const auto status = producer.send_to(topic, message);
  if (status == orchestration::Status::kOk) return true;
  problem = "send to '" + topic + "' failed: " + std::string(orchestration::to_string(status));
  return false;
}

int send_json_lines(orchestration::Producer& producer, const SendArgs& args, std::uint64_t& sent) {
  if (*args.json != "-") return usage_error("send", "--json reads stdin only: give --json -");
  std::string line;
  std::uint64_t number = 0;
  std::uint64_t bad = 0;
  while (std::getline(std::cin, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
    auto message = message_from_json_line(line);
    std::string problem;
    if (!message) {
      problem = "line " + std::to_string(number) + ": " + message.error().message;
    } else if (send_one(producer, args.topic, *message, problem)) {
      ++sent;
      continue;
    } else {
      problem = "line " + std::to_string(number) + ": " + problem;
    }
    ++bad;
    fail("send", problem);
    if (!args.keep_going) {
      std::cerr << "mlops send: stopped at line " << number << " (" << sent
                << " sent before it); --keep-going sends the lines after a bad one\n";
      return kExitFailure;
    }
  }
  if (bad > 0) {
    std::cerr << "mlops send: " << bad << " bad line(s), " << sent << " message(s) sent\n";
    return kExitFailure;
  }
  return kExitOk;
}

int run(const SendArgs& args) {
  if (args.json && (args.type || args.creator || args.creator_type || args.stage || args.user_msg ||
                    args.key || args.retries || !args.next_task.empty() || !args.output.empty() ||
                    !args.recipient.empty() || !args.args.empty() || args.count != 1)) {
    return usage_error("send",
                       "--json takes the messages from stdin: no field flags or --count with it");
  }
  if (args.keep_going && !args.json) return usage_error("send", "--keep-going goes with --json -");
  if (!orchestration::is_valid_topic_name(args.topic)) {
    return usage_error("send", "invalid topic name '" + args.topic +
                                   "': topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or ..");
  }
  // Check the fields before touching the backend, so a typo never half-sends.
  MessageBuilder builder;
  if (!args.json) {
    if (auto problem = fill(builder, args)) return usage_error("send", *problem);
  }
  auto orch = open_uri(args.uri, args.sets);
  if (!orch) return fail("send", orch.error().message);
  // Delivery reports tell a refused message (certainly not held) from one whose fate is
  // unknown, so that a failure says which it is.
  auto outcomes = std::make_shared<Outcomes>();
  orchestration::ProducerOptions options;
  options.on_delivery = [outcomes](const orchestration::DeliveryReport& report) {
    if (report.status == orchestration::Status::kOk) {
      outcomes->held.fetch_add(1, std::memory_order_relaxed);
    } else if (report.status != orchestration::Status::kDeliveryUnknown) {
      outcomes->not_held.fetch_add(1, std::memory_order_relaxed);
    }
  };
  auto producer = orchestration::Producer::create(*orch, args.topic, std::move(options));
  if (!producer) return fail("send", producer.error().message);
  std::uint64_t sent = 0;
  int status = kExitOk;
  if (args.json) {
    status = send_json_lines(*producer, args, sent);
  } else {
    for (std::uint64_t i = 0; i < args.count && !g_stop_requested.load(); ++i) {
      if (i > 0) (void)fill(builder, args);  // build() reset it; every copy gets its own id
      std::string problem;
      if (!send_one(*producer, args.topic, builder.build(), problem)) {
        status = fail("send", problem + " (" + std::to_string(sent) + " sent before it)");
        break;
      }
      ++sent;
    }
  }
  if (args.flush) {
    const auto flushed = producer->flush(std::chrono::milliseconds(args.flush_timeout_ms));
    if (flushed != orchestration::Status::kOk) {
      if (outcomes->not_held.load() > 0) return fail("send", not_held_text(*outcomes, sent));
      return fail("send", "flush failed: " + std::string(orchestration::to_string(flushed)) +
                              "; the messages may or may not be held");
    }
  }
  const auto closed = producer->close();
  if (closed != orchestration::Status::kOk && status == kExitOk) {
    if (outcomes->not_held.load() > 0) return fail("send", not_held_text(*outcomes, sent));
    return fail("send", "not every message was confirmed before closing (" +
                            std::string(orchestration::to_string(closed)) +
                            "): some may or may not be held; -v shows the backend's log");
  }
  return status;
}

}  // namespace

void add_send_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SendArgs>();
  auto* cmd = app.add_subcommand(
      "send", "Build messages from flags (or JSON lines) and send them to a topic");
  cmd->add_option("URI", args->uri, "Where: mmap:///DIR, kafka://HOST:PORT, ...")->required();
  cmd->add_option("TOPIC", args->topic, "The topic to send to")->required();
  cmd->add_option("--type", args->type,
                  "Message type: START, COMPLETE, FAIL, INPROGRESS, RETRY, OTHER");
  cmd->add_option("--creator", args->creator, "Who created it");
  cmd->add_option("--creator-type", args->creator_type,
                  "Creator type (normalised: ETL -> MLOPS, ...)");
  cmd->add_option("--stage", args->stage, "Pipeline stage: STAGED, TRAIN, ETL, ...");
  cmd->add_option("--next-task", args->next_task, "A next task (repeat for a list)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--user-msg", args->user_msg, "Free text");
  cmd->add_option("--output", args->output, "An output path or URI (repeat for a list)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--recipient", args->recipient, "A recipient (repeat for a list)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--retries", args->retries, "Retry count");
  cmd->add_option(
         "--arg", args->args,
         "Additional argument KEY=VALUE; VALUE 3, 2.5, true, null are typed, \"3\" is text")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--key", args->key, "Ordering key (kafka: the record key)");
  cmd->add_option("--count", args->count, "Send N copies (each with its own id and time)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_flag("--flush", args->flush, "Wait until the backend holds them durably before exiting");
  cmd->add_option("--flush-timeout", args->flush_timeout_ms, "How long --flush waits, ms")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  cmd->add_option("--json", args->json, "Read one message per line of JSON from stdin (give -)");
  cmd->add_flag("--keep-going", args->keep_going, "With --json: report a bad line and go on");
  cmd->add_option("--set", args->sets, "Backend option KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace mlops::tool
