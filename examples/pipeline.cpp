// The demo pipeline: ETL -> Train -> Evaluate, and a report at the end.
// Each stage consumes the previous stage's topic in its own consumer group, does its
// (pretend) work and sends a message on. An end-of-stream message closes each stage.
// Prints every message as it flows and a summary; exits 0 when every dataset went through
// every stage within the deadline, 1 otherwise.
//
// Usage: example_pipeline [--threads] [URI] [DATASETS]
//   default      every stage is a separate process (fork), sharing nothing but the queue:
//                the persistent mmap queue in a fresh directory (removed afterwards) unless
//                URI names one. This is the README's main job.
//   --threads    every stage is a thread of this process (default URI inproc://pipeline).
#include <mlops/orchestration.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
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
  line << '\n';
  // One write per line: stages in separate processes share stdout without tearing lines.
  const std::lock_guard lock(g_print_mutex);
  const std::string text = line.str();
  (void)!::write(STDOUT_FILENO, text.data(), text.size());
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


bool stage_ok(const StageResult& result, int datasets) {
  return result.finished && result.processed == datasets && result.error.empty();
}

void print_stage_summary(const StageResult& result, int datasets) {
  std::ostringstream line;
  line << "  " << result.name << ": " << result.processed << "/" << datasets
       << (result.finished ? " finished" : " NOT finished")
       << (result.error.empty() ? "" : " (" + result.error + ")") << '\n';
  const std::string text = line.str();
  (void)!::write(STDOUT_FILENO, text.data(), text.size());
}

// The pipeline's end: collects the evaluations until end of stream or the deadline.
StageResult report(const orc::Orchestration& orch, Clock::time_point deadline,
                   std::vector<double>& accuracies) {
  StageResult result{"report"};
  auto results = orc::Consumer::create("eval-done", orch, {.group = "report"});
  if (!results) {
    result.error = results.error().message;
    return result;
  }
  while (!result.finished && Clock::now() < deadline) {
    for (const auto& msg : results->receive(200ms)) {
      if (is_end_of_stream(msg)) {
        result.finished = true;
        break;
      }
      accuracies.push_back(msg.additional_argument("accuracy")->as_double().value_or(0.0));
      ++result.processed;
    }
  }
  (void)results->commit();
  return result;
}

int finish(const std::string& uri, int datasets, Clock::time_point start, bool stages_ok,
           const StageResult& report_result, const std::vector<double>& accuracies) {
  const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const bool ok = stages_ok && stage_ok(report_result, datasets);
  std::cout << "  " << report_result.name << ": " << report_result.processed << "/" << datasets
            << (report_result.finished ? " finished" : " NOT finished") << '\n';
  double best = 0.0;
  for (const double a : accuracies) best = std::max(best, a);
  std::cout << "  best accuracy: " << best << "\n  " << uri << ", " << elapsed << " ms\n"
            << (ok ? "pipeline OK\n" : "pipeline FAILED\n");
  return ok ? 0 : 1;
}

// Every stage a thread of this process.
int run_threads(const std::string& uri, int datasets) {
  auto orch = orc::Orchestration::from_uri(uri);
  if (!orch) {
    std::cerr << "orchestration: " << orch.error().message << '\n';
    return 1;
  }
  const auto start = Clock::now();
  // Consumers subscribe when their stage starts; groups start at the earliest message,
  // so the order the threads start in does not matter.
  StageResult etl_result{"etl"};
  StageResult train_result{"train"};
  StageResult evaluate_result{"evaluate"};
  std::vector<double> accuracies;
  std::thread evaluate_thread(
      [&] { stage(*orch, "train-done", "eval-done", evaluate, evaluate_result); });
  std::thread train_thread([&] { stage(*orch, "etl-done", "train-done", train, train_result); });
  std::thread etl_thread([&] { etl(*orch, datasets, etl_result); });
  const auto report_result = report(*orch, start + kDeadline, accuracies);
  etl_thread.join();
  train_thread.join();
  evaluate_thread.join();

  std::cout << "\nsummary (threads):\n";
  bool ok = true;
  for (const auto* result : {&etl_result, &train_result, &evaluate_result}) {
    print_stage_summary(*result, datasets);
    ok = ok && stage_ok(*result, datasets);
  }
  return finish(orch->uri(), datasets, start, ok, report_result, accuracies);
}

// Runs one stage in a child process; its exit status says whether the stage completed.
pid_t spawn_stage(const std::string& uri, int datasets, const std::string& name) {
  std::cout.flush();
  const pid_t child = ::fork();
  if (child != 0) return child;
  // The child opens the queue itself, as a separate program would.
  auto orch = orc::Orchestration::from_uri(uri);
  if (!orch) {
    std::cerr << name << ": " << orch.error().message << '\n';
    ::_exit(1);
  }
  StageResult result{name};
  if (name == "etl") etl(*orch, datasets, result);
  if (name == "train") stage(*orch, "etl-done", "train-done", train, result);
  if (name == "evaluate") stage(*orch, "train-done", "eval-done", evaluate, result);
  print_stage_summary(result, datasets);
  ::_exit(stage_ok(result, datasets) ? 0 : 1);
}

// Every stage a separate process over a queue several processes can share.
int run_processes(std::string uri, int datasets) {
  std::filesystem::path scratch;
  if (uri.empty()) {
    scratch = std::filesystem::temp_directory_path() / ("mlops-demo-" + std::to_string(::getpid()));
    uri = "mmap://" + scratch.string();
  }
  if (uri.starts_with("inproc:")) {
    std::cerr << "inproc brokers live inside one process; use --threads, or an mmap:// queue\n";
    return 1;
  }
  const auto start = Clock::now();
  std::cout << "pipeline over " << uri << ": etl, train and evaluate as separate processes\n";
  std::vector<std::pair<std::string, pid_t>> children;
  for (const char* name : {"evaluate", "train", "etl"}) {
    const pid_t child = spawn_stage(uri, datasets, name);
    if (child < 0) {
      std::cerr << "fork failed\n";
      return 1;
    }
    children.emplace_back(name, child);
  }
  std::vector<double> accuracies;
  StageResult report_result{"report", 0, false, "the queue could not be opened"};
  if (auto orch = orc::Orchestration::from_uri(uri)) {
    report_result = report(*orch, start + kDeadline, accuracies);
  }
  bool ok = true;
  std::cout << "\nsummary (processes):\n";
  std::cout.flush();
  for (const auto& [name, child] : children) {
    int status = 0;
    const bool exited = ::waitpid(child, &status, 0) == child && WIFEXITED(status);
    const bool child_ok = exited && WEXITSTATUS(status) == 0;
    if (!child_ok) std::cout << "  " << name << " (pid " << child << ") FAILED\n";
    ok = ok && child_ok;
  }
  const int code = finish(uri, datasets, start, ok, report_result, accuracies);
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool threads = !args.empty() && args.front() == "--threads";
  if (threads) args.erase(args.begin());
  const std::string uri = !args.empty() ? args[0] : (threads ? "inproc://pipeline" : "");
  const int datasets = args.size() > 1 ? std::atoi(args[1].c_str()) : 8;
  if (datasets <= 0) {
    std::cerr << "DATASETS must be a positive number\n";
    return 1;
  }
  return threads ? run_threads(uri, datasets) : run_processes(uri, datasets);
}
