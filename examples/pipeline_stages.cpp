#include "pipeline_stages.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <sstream>
#include <vector>

namespace mlops::examples::pipeline {

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;

namespace {
std::mutex g_print_mutex;
}  // namespace

void write_line(const std::string& text) {
  const std::lock_guard lock(g_print_mutex);
  (void)!::write(STDOUT_FILENO, text.data(), text.size());
}

std::string summary_of(const StageResult& result, int datasets) {
  std::ostringstream line;
  line << "  " << result.name << ": " << result.seen.size() << "/" << datasets << " datasets";
  std::string missing;
  for (std::int64_t i = 0; i < datasets; ++i) {
    if (!result.seen.contains(i) && !result.dead_lettered.contains(i)) {
      missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    }
  }
  if (!missing.empty()) line << ", MISSING " << missing;
  if (result.retried > 0) line << "; " << result.retried << " retries with backoff";
  if (!result.dead_lettered.empty()) {
    line << "; dead-lettered:";
    for (const auto item : result.dead_lettered) line << " dataset " << item;
  }
  if (result.expected) {
    line << "; end of stream announced " << *result.expected;
    if (result.dead_expected > 0) line << " (+" << result.dead_expected << " dead-lettered)";
    if (result.after_end > 0) line << " (" << result.after_end << " came after it)";
  } else {
    line << "; NO end of stream";
  }
  if (!result.error.empty()) line << " (" << result.error << ")";
  line << '\n';
  return line.str();
}

namespace {

void print(const std::string& stage, const std::string& what, const mes::MLOpsMessage& msg) {
  std::ostringstream line;
  line << "[" << stage << "] " << what << ": " << mes::to_string(msg.message_type());
  if (const auto s = msg.stage()) line << ' ' << mes::to_string(*s);
  line << " from " << msg.creator().value_or("?") << " '" << msg.user_message().value_or("") << "'";
  for (const auto output : msg.output()) line << " output=" << output;
  if (msg.retries() > 0) line << " (retry " << msg.retries() << ")";
  if (const auto why = msg.additional_argument("mlops.dlq_reason")) {
    line << " [dead letter: " << why->as_string().value_or("?") << "]";
  }
  line << '\n';
  write_line(line.str());
}

// The end of a stage's stream: how many items it sent before this message, and how many it
// dead-lettered.
mes::MLOpsMessage end_of_stream(std::string_view creator, std::int64_t items, std::int64_t dead) {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::OTHER)
      .with_creator(creator)
      .with_user_msg("end of stream after " + std::to_string(items) + " items")
      .with_additional_argument("end_of_stream", true)
      .with_additional_argument("items", items)
      .with_additional_argument("dead_lettered", dead)
      .build();
}

std::int64_t dead_lettered_of(const mes::MLOpsMessage& msg) {
  const auto dead = msg.additional_argument("dead_lettered");
  return dead ? dead->as_int().value_or(0) : 0;
}

// The item count of an end-of-stream message; nullopt for any other message.
std::optional<std::int64_t> end_of_stream_items(const mes::MLOpsMessage& msg) {
  const auto flag = msg.additional_argument("end_of_stream");
  if (!flag || !flag->as_bool().value_or(false)) return std::nullopt;
  const auto items = msg.additional_argument("items");
  return items ? items->as_int() : std::nullopt;
}

std::optional<std::int64_t> dataset_of(const mes::MLOpsMessage& msg) {
  const auto dataset = msg.additional_argument("dataset");
  return dataset ? dataset->as_int() : std::nullopt;
}

// Sends `msg`, reporting a failure in `result`.
bool send(orc::Producer& producer, const mes::MLOpsMessage& msg, StageResult& result) {
  const auto status = producer.send(msg);
  if (status != orc::Status::kOk) result.error = "send: " + std::string(orc::to_string(status));
  return status == orc::Status::kOk;
}

// Ends a stage's stream with the count of what it sent, and waits until the backend holds it.
void end_stream(orc::Producer& producer, StageResult& result, const std::string& out) {
  const auto end = end_of_stream(result.name, result.sent,
                                 static_cast<std::int64_t>(result.dead_lettered.size()));
  print(result.name, "-> " + out, end);
  if (!send(producer, end, result)) return;
  if (const auto status = producer.flush(5s); status != orc::Status::kOk && result.error.empty()) {
    result.error = "flush: " + std::string(orc::to_string(status));
  }
}

void etl(const orc::Orchestration& orch, int datasets, StageResult& result) {
  auto producer = orc::Producer::create(orch, kTopics[0]);
  if (!producer) {
    result.error = producer.error().message;
    return;
  }
  result.expected = datasets;
  for (int i = 0; i < datasets; ++i) {
    const auto msg = mes::MessageBuilder()
                         .with_msg_type(mes::MessageType::COMPLETE)
                         .with_stage(mes::Stage::ETL)
                         .with_creator("etl-worker")
                         .with_creator_type("ETL")
                         .with_next_task("Train")
                         .with_user_msg("dataset " + std::to_string(i) + " ready")
                         .with_output("/data/dataset-" + std::to_string(i) + ".parquet")
                         .with_additional_argument("dataset", i)
                         .with_additional_argument("rows", 1000 * (i + 1))
                         .build();
    print(result.name, "-> " + std::string(kTopics[0]), msg);
    if (!send(*producer, msg, result)) break;
    result.seen.insert(i);
    ++result.sent;
  }
  end_stream(*producer, result, kTopics[0]);
}

// Turns one input message into the message to send on (none: nothing to send).
using Work = std::function<std::optional<mes::MLOpsMessage>(const mes::MLOpsMessage&)>;
// Why the work on a message failed this time (empty: it did not).
using Failure = std::function<std::string(const mes::MLOpsMessage&)>;

// A failed evaluation comes back after 100 ms, 200 ms, ... (+-20%); after kMaxRetries
// retries it goes to the dead-letter topic.
constexpr orc::Backoff kBackoff{.initial = 100ms, .multiplier = 2, .max = 1s, .jitter = 0.2};
constexpr std::int32_t kMaxRetries = 2;

// A stage: consumes `in` in the group named after it until it has every item the end of
// stream announced or `deadline` passes, handing each new item to `work` and sending what it
// returns to `out` (none when `out` is empty: the end of the pipeline).
void run_stage(const orc::Orchestration& orch, const orc::TopicList& in, const std::string& out,
               const Work& work, Clock::time_point deadline, StageResult& result,
               const Failure& fails = {}) {
  auto consumer =
      orc::Consumer::create(in, orch, {.group = result.name, .max_retries = kMaxRetries});
  if (!consumer) {
    result.error = consumer.error().message;
    return;
  }
  std::optional<orc::Producer> producer;
  if (!out.empty()) {
    auto made = orc::Producer::create(orch, out);
    if (!made) {
      result.error = made.error().message;
      return;
    }
    producer.emplace(std::move(*made));
  }
  std::vector<mes::MLOpsMessage> batch;
  bool sending = true;
  while (sending && !result.complete() && Clock::now() < deadline) {
    if (consumer->receive(batch, {}, 200ms) != orc::Status::kOk) continue;
    for (const auto& msg : batch) {
      print(result.name, "<-", msg);
      if (const auto items = end_of_stream_items(msg)) {
        result.expected = *items;
        result.dead_expected = dead_lettered_of(msg);
        continue;
      }
      const auto item = dataset_of(msg);
      if (!item) continue;
      if (msg.additional_argument("mlops.dlq_reason")) {  // the report reads the dead letters
        result.dead_lettered.insert(*item);
        continue;
      }
      if (msg.retries() > 0) {
        if (result.retrying.erase(*item) == 0) continue;  // a repeat of a retry
      } else if (!result.seen.insert(*item).second) {
        continue;  // a repeat
      } else if (result.expected) {
        ++result.after_end;
      }
      if (const auto why = fails ? fails(msg) : std::string(); !why.empty()) {
        const bool last = msg.retries() >= kMaxRetries;
        if (const auto status = consumer->retry(msg, kBackoff, why); status != orc::Status::kOk) {
          result.error = "retry: " + std::string(orc::to_string(status));
        } else if (last) {
          result.dead_lettered.insert(*item);
          write_line("[" + result.name + "] dataset " + std::to_string(*item) + " failed (" + why +
                     ") after " + std::to_string(msg.retries()) + " retries: dead-lettered\n");
        } else {
          result.retrying.insert(*item);
          ++result.retried;
          write_line("[" + result.name + "] dataset " + std::to_string(*item) + " failed (" + why +
                     "): retry " + std::to_string(msg.retries() + 1) + " with backoff\n");
        }
        continue;
      }
      auto next = work(msg);
      if (!next || !producer) continue;
      print(result.name, "-> " + out, *next);
      if (!(sending = send(*producer, *next, result))) break;
      ++result.sent;
    }
    (void)consumer->commit();  // processed: never again to this group
  }
  if (!result.complete() && result.error.empty()) {
    result.error = result.expected ? "deadline passed before every item came"
                                   : "no end of stream before the deadline";
  }
  // Downstream learns how many items to wait for, also when some never came.
  if (producer) end_stream(*producer, result, out);
}

mes::MLOpsMessage train(const mes::MLOpsMessage& msg) {
  const auto dataset = dataset_of(msg).value_or(-1);
  const auto rows = msg.additional_argument("rows")->as_int().value_or(0);
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::COMPLETE)
      .with_stage(mes::Stage::TRAIN)
      .with_creator("trainer")
      .with_creator_type("training")
      .with_next_task("Evaluate")
      .with_user_msg("model " + std::to_string(dataset) + " trained on " + std::to_string(rows) +
                     " rows")
      .with_output("/models/model-" + std::to_string(dataset) + ".pt")
      .with_additional_argument("dataset", dataset)
      .with_additional_argument("loss", 1.0 / static_cast<double>(std::max<std::int64_t>(rows, 1)))
      .build();
}

mes::MLOpsMessage evaluate(const mes::MLOpsMessage& msg) {
  const auto dataset = dataset_of(msg).value_or(-1);
  const auto loss = msg.additional_argument("loss")->as_double().value_or(1.0);
  const double accuracy = 1.0 - loss * 100.0;
  std::ostringstream text;
  text << "model " << dataset << " accuracy " << accuracy;
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::COMPLETE)
      .with_stage(mes::Stage::EVALUATION)
      .with_creator("evaluator")
      .with_creator_type("evaluation")
      .with_user_msg(text.str())
      .with_additional_argument("dataset", dataset)
      .with_additional_argument("accuracy", accuracy)
      .build();
}

}  // namespace

void run_named_stage(const orc::Orchestration& orch, int datasets, Clock::time_point deadline,
                     StageResult& result) {
  if (result.name == "etl") etl(orch, datasets, result);
  if (result.name == "train") run_stage(orch, kTopics[0], kTopics[1], train, deadline, result);
  if (result.name == "evaluate") {
    const auto flaky = flaky_dataset(datasets);
    const auto poisoned = poisoned_dataset(datasets);
    const Failure fails = [flaky, poisoned](const mes::MLOpsMessage& msg) -> std::string {
      const auto dataset = dataset_of(msg);
      if (dataset == flaky && msg.retries() == 0) return "GPU preempted";
      if (dataset == poisoned) return "metrics file corrupt";
      return {};
    };
    run_stage(orch, kTopics[1], kTopics[2], evaluate, deadline, result, fails);
  }
}

StageResult report(const orc::Orchestration& orch, Clock::time_point deadline, double& best) {
  StageResult result{"report"};
  const Work collect = [&best](const mes::MLOpsMessage& msg) -> std::optional<mes::MLOpsMessage> {
    best = std::max(best, msg.additional_argument("accuracy")->as_double().value_or(0.0));
    return std::nullopt;
  };
  // The evaluations, and the dead letters of the evaluations that kept failing.
  run_stage(orch, orc::TopicList{std::string(kTopics[2]), std::string(kFailureTopics[1])}, "",
            collect, deadline + 5s, result);
  return result;
}

}  // namespace mlops::examples::pipeline
