// Any FlatBuffers reader can read our messages from fbs/ alone: stock flatc, and the
// Python runtime Debian ships (python3-flatbuffers) with code flatc generates.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/sample_messages.h"

namespace fs = std::filesystem;

namespace {

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult result{-1, {}};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  result.status = ::pclose(pipe);
  return result;
}

class Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mlops-interop-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto msg = mlops::testing::make_full_message();
    std::ofstream(dir_ / "message.mlop", std::ios::binary)
        .write(reinterpret_cast<const char*>(msg.bytes().data()),
               static_cast<std::streamsize>(msg.bytes().size()));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_F(Interop, StockFlatcDecodesOurBytes) {
  const auto result =
      run(std::string(MLOPS_FLATC) + " --json --strict-json --raw-binary -o " + dir_.string() +
          " " + MLOPS_SCHEMA + " -- " + (dir_ / "message.mlop").string());
  ASSERT_EQ(result.status, 0) << result.output;
  const auto json = slurp(dir_ / "message.json");
  for (const char* expected : {"\"user_message\": \"epoch 12 done\"", "\"creator_type\": \"MLOPS\"",
                               "\"stage\": \"FINE_TUNE\"", "\"Sick-Topic\"", "\"learning_rate\"",
                               "\"key\": \"resnet-run-7\""}) {
    EXPECT_NE(json.find(expected), std::string::npos) << expected << " not in\n" << json;
  }
}

// The schema as it was before `field` was appended to Message: that field and every one
// after it left out of the table.
std::string schema_before(const std::string& field) {
  std::string schema = slurp(MLOPS_SCHEMA);
  const auto table = schema.find("table Message {");
  const auto start = schema.find("\n  " + field + ": ", table);
  if (table == std::string::npos || start == std::string::npos) return {};
  const auto end = schema.find("\n}", start);
  schema.erase(start, end - start);
  return schema;
}

// Schema evolution, old reader and new writer: a reader built from the schema as it was
// before `field` was appended reads a message that has it, every older field intact.
void expect_old_reader_reads(const fs::path& dir, const std::string& field,
                             const std::string& new_value, const std::vector<std::string>& kept) {
  const auto schema = schema_before(field);
  ASSERT_FALSE(schema.empty()) << "the schema has no " << field << " field to leave out";
  std::ofstream(dir / "before.fbs") << schema;
  const auto result =
      run(std::string(MLOPS_FLATC) + " --json --strict-json --raw-binary -o " + dir.string() + " " +
          (dir / "before.fbs").string() + " -- " + (dir / "message.mlop").string());
  ASSERT_EQ(result.status, 0) << result.output;
  const auto json = slurp(dir / "message.json");
  EXPECT_EQ(json.find(new_value), std::string::npos) << "the old reader knows no " << field;
  for (const auto& expected : kept) {
    EXPECT_NE(json.find(expected), std::string::npos) << expected << " not in\n" << json;
  }
}

TEST_F(Interop, ReaderOfTheSchemaBeforeKeyReadsMessagesWithAKey) {
  expect_old_reader_reads(dir_, "key", "resnet-run-7",
                          {"\"user_message\": \"epoch 12 done\"", "\"list_fields\"",
                           "\"timestamp_ns\"", "\"learning_rate\""});
}

TEST_F(Interop, ReaderOfTheSchemaBeforeTraceContextReadsMessagesWithOne) {
  expect_old_reader_reads(dir_, "trace_context", "4bf92f3577b34da6",
                          {"\"user_message\": \"epoch 12 done\"", "\"key\": \"resnet-run-7\"",
                           "\"timestamp_ns\"", "\"learning_rate\""});
}

TEST_F(Interop, PythonFlatbuffersReadsOurBytes) {
  if (std::string(MLOPS_PYTHON).empty() || !fs::exists(MLOPS_PYTHON)) {
    GTEST_SKIP() << "no /usr/bin/python3 to run python3-flatbuffers with";
  }
  const auto probe = run(std::string(MLOPS_PYTHON) + " -c 'import flatbuffers'");
  if (probe.status != 0) GTEST_SKIP() << "python3-flatbuffers is not installed: " << probe.output;
  const auto generated =
      run(std::string(MLOPS_FLATC) + " --python -o " + dir_.string() + " " + MLOPS_SCHEMA);
  ASSERT_EQ(generated.status, 0) << generated.output;
  std::ofstream(dir_ / "read.py") << R"(import sys
sys.path.insert(0, sys.argv[1])
from mlops.messaging.wire.Message import Message
buf = open(sys.argv[2], 'rb').read()
msg = Message.GetRootAs(buf, 0)
topics = [msg.Topic(i).decode() for i in range(msg.TopicLength())]
print(msg.UserMessage().decode(), msg.CreatorType(), msg.Stage(), msg.Retries(), ','.join(topics),
      msg.AdditionalArgumentsLength(), msg.Id().Hi() > 0)
)";
  const auto result = run(std::string(MLOPS_PYTHON) + " " + (dir_ / "read.py").string() + " " +
                          dir_.string() + " " + (dir_ / "message.mlop").string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "epoch 12 done 5 5 3 Cool-New-Topic,Sick-Topic 8 True\n");
}
