// The demo pipeline: ETL -> Train -> Evaluate, and a report at the end (pipeline_stages.h).
// Each stage consumes the previous stage's topic in its own consumer group, does its
// (pretend) work and sends a message on. Prints every message as it flows and a summary;
// exits 0 when every dataset went through every stage within the deadline, 1 otherwise, 2
// for a command line it does not take. Runs the stages as processes or threads.
#include <mlops/orchestration.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "example_cli.h"
#include "kafka_mock_process.h"
#include "pipeline_stages.h"

namespace orc = mlops::orchestration;
using mlops::examples::pipeline::Clock;
using mlops::examples::pipeline::kFailureTopics;
using mlops::examples::pipeline::kTopics;
using mlops::examples::pipeline::StageResult;
using mlops::examples::pipeline::summary_of;
using mlops::examples::pipeline::write_line;

namespace {

constexpr std::string_view kUsage =
    "usage: example_pipeline [--threads] [--deadline=SECONDS] [URI] [DATASETS]";
constexpr std::string_view kAbout = R"(
Runs ETL -> Train -> Evaluate on DATASETS datasets (default 8) and reports what arrived.
  default        every stage is a separate process (fork) sharing nothing but the backend:
                 the persistent mmap queue in a fresh directory (removed afterwards) unless
                 URI names one. This is the README's main job.
  --threads      every stage is a thread of this process (default URI inproc://pipeline).
  --deadline=S   how long a stage waits for its input (default 30 s; it ends sooner once it
                 has every item its end-of-stream message announced).
  URI            inproc://NAME, mmap:///DIR, kafka://HOST:PORT[,HOST:PORT], ...
                 redis://HOST:PORT[/DB],
                 kafka://mock?mock.brokers=3&mock.partitions=4 runs librdkafka's mock cluster
                 (in a process of its own when the stages are processes); other options
                 pass through, e.g. &ordering=none.
)";

int finish(const std::string& uri, int datasets, Clock::time_point start, bool stages_ok,
           const StageResult& report_result, double best) {
  write_line(summary_of(report_result, datasets));
  const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const bool ok = stages_ok && report_result.ok(datasets);
  std::cout << "  best accuracy: " << best << "\n  " << uri << ", " << elapsed << " ms\n"
            << (ok ? "pipeline OK\n" : "pipeline FAILED\n");
  return ok ? 0 : 1;
}

struct Settings {
  std::string uri;
  int datasets = 8;
  std::chrono::seconds deadline{30};
};

// Every stage a thread of this process.
int run_threads(const Settings& settings) {
  auto orch = orc::Orchestration::from_uri(settings.uri);
  if (!orch) {
    std::cerr << "orchestration: " << orch.error().message << '\n';
    return 1;
  }
  const auto start = Clock::now();
  const auto deadline = start + settings.deadline;
  // Groups start at the earliest message, so the order the threads start in does not matter.
  std::vector<StageResult> stages{{"etl"}, {"train"}, {"evaluate"}};
  std::vector<std::thread> threads;
  for (auto& stage : stages) {
    threads.emplace_back([&orch, &settings, deadline, result = &stage] {
      mlops::examples::pipeline::run_named_stage(*orch, settings.datasets, deadline, *result);
    });
  }
  double best = 0.0;
  const auto report_result = mlops::examples::pipeline::report(*orch, deadline, best);
  for (auto& thread : threads) thread.join();

  std::cout << "\nsummary (threads):\n" << std::flush;
  bool ok = true;
  for (const auto& stage : stages) {
    write_line(summary_of(stage, settings.datasets));
    ok = ok && stage.ok(settings.datasets);
  }
  return finish(orch->redacted_uri(), settings.datasets, start, ok, report_result, best);
}

// A stage running in a child process: its exit status says whether the stage completed,
// and it writes its summary line into `summary`.
struct Child {
  std::string name;
  pid_t pid = -1;
  int summary = -1;  // read end
};

Child spawn_stage(const Settings& settings, const std::string& name) {
  int summary[2];
  if (::pipe(summary) != 0) return {name};
  std::cout.flush();
  const pid_t child = ::fork();
  if (child != 0) {
    ::close(summary[1]);
    if (child < 0) ::close(summary[0]);
    return {name, child, child < 0 ? -1 : summary[0]};
  }
  ::close(summary[0]);
  // The child opens the backend itself, as a separate program would.
  StageResult result{name};
  if (auto orch = orc::Orchestration::from_uri(settings.uri)) {
    mlops::examples::pipeline::run_named_stage(*orch, settings.datasets,
                                               Clock::now() + settings.deadline, result);
  } else {
    result.error = orch.error().message;
  }
  const auto line = summary_of(result, settings.datasets);
  (void)!::write(summary[1], line.data(), line.size());
  ::_exit(result.ok(settings.datasets) ? 0 : 1);
}

// Waits for `child`, prints its summary. @return whether its stage completed.
bool reap(const Child& child) {
  int status = 0;
  const bool exited = ::waitpid(child.pid, &status, 0) == child.pid && WIFEXITED(status);
  std::string line;
  std::array<char, 512> buffer{};
  ssize_t got = 0;
  while ((got = ::read(child.summary, buffer.data(), buffer.size())) > 0) {
    line.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(child.summary);
  write_line(line.empty() ? "  " + child.name + ": no summary\n" : line);
  const bool ok = exited && WEXITSTATUS(status) == 0;
  if (!ok) write_line("  " + child.name + " (pid " + std::to_string(child.pid) + ") FAILED\n");
  return ok;
}

// A kafka:// URI asking for the mock cluster (mock.brokers=N): in processes mode the cluster
// runs in a process of its own, and the stages get its address with the other options.
struct KafkaMock {
  int brokers = 0;
  int partitions = 1;
  std::string other_options;
};

std::optional<KafkaMock> kafka_mock_of(std::string_view uri) {
  const auto query = uri.find('?');
  if (!uri.starts_with("kafka://") || query == std::string_view::npos) return std::nullopt;
  KafkaMock mock;
  std::string_view rest = uri.substr(query + 1);
  while (!rest.empty()) {
    const auto pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    const auto equals = pair.find('=');
    const auto key = pair.substr(0, equals);
    const auto value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    int* number = key == "mock.brokers"      ? &mock.brokers
                  : key == "mock.partitions" ? &mock.partitions
                                             : nullptr;
    if (number == nullptr) {
      mock.other_options += (mock.other_options.empty() ? "" : "&") + std::string(pair);
    } else {
      (void)std::from_chars(value.data(), value.data() + value.size(), *number);
    }
  }
  if (mock.brokers <= 0) return std::nullopt;
  return mock;
}

// Every stage a separate process over a backend several processes can share.
int run_processes(Settings settings) {
  std::filesystem::path scratch;
  if (settings.uri.empty()) {
    scratch = std::filesystem::temp_directory_path() / ("mlops-demo-" + std::to_string(::getpid()));
    settings.uri = "mmap://" + scratch.string();
  }
  if (settings.uri.starts_with("inproc:")) {
    return mlops::examples::usage_error(
        kUsage, "inproc brokers live inside one process: use --threads, or an mmap:// queue");
  }
  // Declared before every client: the cluster outlives them.
  std::optional<mlops::examples::KafkaMockProcess> mock_process;
  if (const auto mock = kafka_mock_of(settings.uri)) {
    std::vector<std::string> topics(kTopics.begin(), kTopics.end());
    topics.insert(topics.end(), kFailureTopics.begin(), kFailureTopics.end());
    auto started =
        mlops::examples::KafkaMockProcess::start(mock->brokers, mock->partitions, topics);
    if (!started) {
      std::cerr << "kafka mock cluster: " << started.error().message << '\n';
      return 1;
    }
    mock_process.emplace(std::move(*started));
    std::cout << "mock Kafka cluster: " << mock->brokers << " brokers, " << mock->partitions
              << " partitions per topic, in process of its own\n";
    settings.uri = "kafka://" + mock_process->bootstraps() +
                   (mock->other_options.empty() ? "" : "?" + mock->other_options);
  }
  const auto start = Clock::now();
  std::cout << "pipeline over " << settings.uri
            << ": etl, train and evaluate as separate processes\n";
  std::vector<Child> children;
  for (const char* name : {"evaluate", "train", "etl"}) {
    children.push_back(spawn_stage(settings, name));
    if (children.back().pid < 0) {
      std::cerr << "fork failed\n";
      for (const auto& child : children) {
        if (child.pid > 0) (void)reap(child);  // each ends at its deadline
      }
      return 1;
    }
  }
  double best = 0.0;
  StageResult report_result{"report"};
  if (auto orch = orc::Orchestration::from_uri(settings.uri)) {
    report_result = mlops::examples::pipeline::report(*orch, start + settings.deadline, best);
  } else {
    report_result.error = orch.error().message;
  }
  bool ok = true;
  std::cout << "\nsummary (processes):\n" << std::flush;
  // In pipeline order.
  for (auto child = children.rbegin(); child != children.rend(); ++child) ok = reap(*child) && ok;
  const int code = finish(settings.uri, settings.datasets, start, ok, report_result, best);
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  const auto command_line = mlops::examples::parse_command_line(argc, argv, kUsage, kAbout,
                                                                {"--threads", "--deadline="}, 2);
  if (command_line.exit_code) return *command_line.exit_code;
  const bool threads = command_line.flag("--threads").has_value();
  const auto& args = command_line.positional;
  Settings settings;
  settings.uri = !args.empty() ? args[0] : (threads ? "inproc://pipeline" : "");
  if (args.size() > 1) {
    const auto& text = args[1];
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), settings.datasets);
    if (error != std::errc() || end != text.data() + text.size() || settings.datasets <= 0) {
      return mlops::examples::usage_error(kUsage,
                                          "DATASETS must be a positive number, not " + text);
    }
  }
  if (const auto deadline = command_line.flag("--deadline")) {
    int seconds = 0;
    const auto [end, error] =
        std::from_chars(deadline->data(), deadline->data() + deadline->size(), seconds);
    if (error != std::errc() || end != deadline->data() + deadline->size() || seconds <= 0) {
      return mlops::examples::usage_error(kUsage,
                                          "--deadline must be a positive number of seconds");
    }
    settings.deadline = std::chrono::seconds(seconds);
  }
  return threads ? run_threads(settings) : run_processes(std::move(settings));
}
