// The demo pipeline: ETL -> Train -> Evaluate, three threads over one inproc broker.
// Each stage consumes the previous stage's topic in its own consumer group, does its
// (pretend) work and sends a message on. An end-of-stream message closes each stage.
// Prints every message as it flows and a summary; exits 0 when every dataset went through
// every stage within the deadline, 1 otherwise.
// Usage: example_pipeline [URI] [DATASETS]   (default: inproc://pipeline, 8 datasets)
#include <mlops/orchestration.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kDeadline = 10s;
std::mutex g_print_mutex;

void print(const std::string& stage, const std::string& what, const mes::MLOpsMessage& msg) {
  std::ostringstream line;
  line << "[" << stage << "] " << what << ": " << mes::to_string(msg.message_type());
  if (const auto s = msg.stage()) line << ' ' << mes::to_string(*s);
  line << " from " << msg.creator().value_or("?") << " '" << msg.user_message().value_or("")
       << "'";
  for (const auto output : msg.output()) line << " output=" << output;
  const std::lock_guard lock(g_print_mutex);
  std::cout << line.str() << '\n';
}

bool is_end_of_stream(const mes::MLOpsMessage& msg) {
  const auto flag = msg.additional_argument("end_of_stream");
  return flag && flag->as_bool().value_or(false);
}

mes::MLOpsMessage end_of_stream(std::string_view creator) {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::OTHER)
      .with_creator(creator)
      .with_user_msg("end of stream")
      .with_additional_argument("end_of_stream", true)
      .build();
}

// What one stage saw.
struct StageResult {
  std::string name;
  int processed = 0;
  bool finished = false;  // got end of stream before the deadline
  std::string error{};
};

// Sends `msg`, reporting a failure in `result`.
bool send(orc::Producer& producer, const mes::MLOpsMessage& msg, StageResult& result) {
  const auto status = producer.send(msg);
  if (status != orc::Status::kOk) result.error = "send: " + std::string(orc::to_string(status));
  return status == orc::Status::kOk;
}

void etl(const orc::Orchestration& orch, int datasets, StageResult& result) {
  auto producer = orc::Producer::create(orch, "etl-done").value();
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
    print("etl", "-> etl-done", msg);
    if (!send(producer, msg, result)) return;
    ++result.processed;
  }
  result.finished = send(producer, end_of_stream("etl-worker"), result);
}

// A stage that turns each message from `in` into one for `out` with `work`.
template <typename Work>
void stage(const orc::Orchestration& orch, const std::string& in, const std::string& out,
           Work work, StageResult& result) {
  auto consumer = orc::Consumer::create(in, orch, {.group = result.name}).value();
  auto producer = orc::Producer::create(orch, out).value();
  const auto deadline = Clock::now() + kDeadline;
  std::vector<mes::MLOpsMessage> batch;
  while (!result.finished && Clock::now() < deadline) {
    if (consumer.receive(batch, {}, 200ms) != orc::Status::kOk) continue;
    for (const auto& msg : batch) {
      print(result.name, "<- " + in, msg);
      if (is_end_of_stream(msg)) {
        result.finished = send(producer, end_of_stream(result.name), result);
        break;
      }
      const auto next = work(msg);
      print(result.name, "-> " + out, next);
      if (!send(producer, next, result)) return;
      ++result.processed;
    }
    (void)consumer.commit();  // processed: never again to this group
  }
  if (!result.finished && result.error.empty()) result.error = "no end of stream before the deadline";
}

mes::MLOpsMessage train(const mes::MLOpsMessage& msg) {
  const auto dataset = msg.additional_argument("dataset")->as_int().value_or(-1);
  const auto rows = msg.additional_argument("rows")->as_int().value_or(0);
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::COMPLETE)
      .with_stage(mes::Stage::TRAIN)
      .with_creator("trainer")
      .with_creator_type("training")
      .with_next_task("Evaluate")
      .with_user_msg("model " + std::to_string(dataset) + " trained on " + std::to_string(rows) + " rows")
      .with_output("/models/model-" + std::to_string(dataset) + ".pt")
      .with_additional_argument("dataset", dataset)
      .with_additional_argument("loss", 1.0 / static_cast<double>(rows))
      .build();
}

mes::MLOpsMessage evaluate(const mes::MLOpsMessage& msg) {
  const auto dataset = msg.additional_argument("dataset")->as_int().value_or(-1);
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

int main(int argc, char** argv) {
  const std::string uri = argc > 1 ? argv[1] : "inproc://pipeline";
  const int datasets = argc > 2 ? std::atoi(argv[2]) : 8;
  auto orch = orc::Orchestration::from_uri(uri);
  if (!orch) {
    std::cerr << "orchestration: " << orch.error().message << '\n';
    return 1;
  }
  if (datasets <= 0) {
    std::cerr << "DATASETS must be a positive number\n";
    return 1;
  }
  const auto start = Clock::now();

  // Consumers subscribe when their stage starts; groups start at the earliest message,
  // so the order the threads start in does not matter.
  StageResult etl_result{"etl"};
  StageResult train_result{"train"};
  StageResult evaluate_result{"evaluate"};
  StageResult report_result{"report"};
  std::vector<double> accuracies;
  std::thread evaluate_thread(
      [&] { stage(*orch, "train-done", "eval-done", evaluate, evaluate_result); });
  std::thread train_thread([&] { stage(*orch, "etl-done", "train-done", train, train_result); });
  std::thread etl_thread([&] { etl(*orch, datasets, etl_result); });

  // The pipeline's end: collect the evaluations.
  auto results = orc::Consumer::create("eval-done", *orch, {.group = "report"}).value();
  const auto deadline = start + kDeadline;
  while (!report_result.finished && Clock::now() < deadline) {
    for (const auto& msg : results.receive(200ms)) {
      if (is_end_of_stream(msg)) {
        report_result.finished = true;
        break;
      }
      accuracies.push_back(msg.additional_argument("accuracy")->as_double().value_or(0.0));
      ++report_result.processed;
    }
  }
  etl_thread.join();
  train_thread.join();
  evaluate_thread.join();

  const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  bool ok = true;
  std::cout << "\nsummary (" << orch->uri() << ", " << elapsed << " ms):\n";
  for (const auto* result : {&etl_result, &train_result, &evaluate_result, &report_result}) {
    const bool stage_ok = result->finished && result->processed == datasets && result->error.empty();
    ok = ok && stage_ok;
    std::cout << "  " << result->name << ": " << result->processed << "/" << datasets
              << (result->finished ? " finished" : " NOT finished")
              << (result->error.empty() ? "" : " (" + result->error + ")") << '\n';
  }
  double best = 0.0;
  for (const double a : accuracies) best = std::max(best, a);
  std::cout << "  best accuracy: " << best << '\n' << (ok ? "pipeline OK\n" : "pipeline FAILED\n");
  return ok ? 0 : 1;
}
