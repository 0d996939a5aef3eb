// Any FlatBuffers reader can read our messages from fbs/ alone: stock flatc, and the
// Python runtime Debian ships (python3-flatbuffers) with code flatc generates.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "messaging/sample_messages.h"

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
  const auto result = run(std::string(MLOPS_FLATC) + " --json --strict-json --raw-binary -o " +
                          dir_.string() + " " + MLOPS_SCHEMA + " -- " +
                          (dir_ / "message.mlop").string());
  ASSERT_EQ(result.status, 0) << result.output;
  const auto json = slurp(dir_ / "message.json");
  for (const char* expected : {"\"user_message\": \"epoch 12 done\"", "\"creator_type\": \"MLOPS\"",
                               "\"stage\": \"FINE_TUNE\"", "\"Sick-Topic\"", "\"learning_rate\"",
                               "\"key\": \"resnet-run-7\""}) {
    EXPECT_NE(json.find(expected), std::string::npos) << expected << " not in\n" << json;
  }
}

// Schema evolution, old reader and new writer: a reader built from the schema as it was
// before `key` was appended reads a message that has one, every older field intact.
TEST_F(Interop, ReaderOfTheSchemaBeforeKeyReadsMessagesWithAKey) {
  std::string schema = slurp(MLOPS_SCHEMA);
  const auto key_field = schema.find("  key: string;");
  ASSERT_NE(key_field, std::string::npos) << "the schema has no key field to leave out";
  schema.erase(key_field, schema.find('\n', key_field) + 1 - key_field);
  std::ofstream(dir_ / "before_key.fbs") << schema;
  const auto result = run(std::string(MLOPS_FLATC) + " --json --strict-json --raw-binary -o " +
                          dir_.string() + " " + (dir_ / "before_key.fbs").string() + " -- " +
                          (dir_ / "message.mlop").string());
  ASSERT_EQ(result.status, 0) << result.output;
  const auto json = slurp(dir_ / "message.json");
  EXPECT_EQ(json.find("resnet-run-7"), std::string::npos) << "the old reader knows no key";
  for (const char* expected : {"\"user_message\": \"epoch 12 done\"", "\"list_fields\"",
                               "\"timestamp_ns\"", "\"learning_rate\""}) {
    EXPECT_NE(json.find(expected), std::string::npos) << expected << " not in\n" << json;
  }
}

TEST_F(Interop, PythonFlatbuffersReadsOurBytes) {
  if (std::string(MLOPS_PYTHON).empty() || !fs::exists(MLOPS_PYTHON)) {
    GTEST_SKIP() << "no /usr/bin/python3 to run python3-flatbuffers with";
  }
  const auto probe = run(std::string(MLOPS_PYTHON) + " -c 'import flatbuffers'");
  if (probe.status != 0) GTEST_SKIP() << "python3-flatbuffers is not installed: " << probe.output;
  const auto generated = run(std::string(MLOPS_FLATC) + " --python -o " + dir_.string() + " " +
                             MLOPS_SCHEMA);
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
