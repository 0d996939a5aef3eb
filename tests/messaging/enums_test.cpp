#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <cctype>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mes = mlops::messaging;

namespace {

// Captures log lines for one test and restores the default handler afterwards.
class LogCapture {
 public:
  LogCapture() {
    mlops::set_log_handler([this](mlops::LogLevel level, std::string_view text) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(level, std::string(text));
    });
  }
  ~LogCapture() { mlops::set_log_handler(nullptr); }
  std::vector<std::pair<mlops::LogLevel, std::string>> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<mlops::LogLevel, std::string>> lines_;
};

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TEST(Enums, MessageTypeTextIsItsName) {
  const std::pair<mes::MessageType, const char*> all[] = {
      {mes::MessageType::START, "START"}, {mes::MessageType::COMPLETE, "COMPLETE"},
      {mes::MessageType::FAIL, "FAIL"},   {mes::MessageType::INPROGRESS, "INPROGRESS"},
      {mes::MessageType::RETRY, "RETRY"}, {mes::MessageType::OTHER, "OTHER"}};
  for (const auto& [value, name] : all) {
    EXPECT_EQ(mes::to_string(value), name);
    EXPECT_EQ(mes::from_string<mes::MessageType>(name), value);
  }
  EXPECT_FALSE(mes::from_string<mes::MessageType>("start").has_value());
  EXPECT_EQ(mes::to_string(static_cast<mes::MessageType>(42)), "UNRECOGNIZED");
}

TEST(Enums, StageTextIsItsName) {
  const std::pair<mes::Stage, const char*> all[] = {
      {mes::Stage::STAGED, "STAGED"},
      {mes::Stage::IN_ANNOTATIONS, "IN_ANNOTATIONS"},
      {mes::Stage::ANNOTATIONS_COMPLETE, "ANNOTATIONS_COMPLETE"},
      {mes::Stage::UNSTAGED, "UNSTAGED"},
      {mes::Stage::TRAIN, "TRAIN"},
      {mes::Stage::FINE_TUNE, "FINE_TUNE"},
      {mes::Stage::EVALUATION, "EVALUATION"},
      {mes::Stage::ETL, "ETL"}};
  for (const auto& [value, name] : all) {
    EXPECT_EQ(mes::to_string(value), name);
    EXPECT_EQ(mes::from_string<mes::Stage>(name), value);
  }
  EXPECT_FALSE(mes::from_string<mes::Stage>("TRAINING").has_value());
  EXPECT_EQ(mes::to_string(static_cast<mes::Stage>(-3)), "UNRECOGNIZED");
}

TEST(Enums, CreatorTypeTextIsLowerCase) {
  EXPECT_EQ(mes::to_string(mes::CreatorType::MLOPS), "mlops");
  EXPECT_EQ(mes::to_string(mes::CreatorType::UNKNOWN), "unknown");
  EXPECT_EQ(mes::from_string<mes::CreatorType>("monitor"), mes::CreatorType::MONITOR);
  EXPECT_FALSE(mes::from_string<mes::CreatorType>("etl").has_value());  // An alias, not a name.
}

TEST(NormalizeCreatorType, WholeAliasTableInAnyCase) {
  const std::vector<std::pair<mes::CreatorType, std::vector<std::string>>> table = {
      {mes::CreatorType::DUMP, {"dump", "storage", "offload", "drop"}},
      {mes::CreatorType::INGESTION, {"ingestion", "ingest", "ingestor", "processor"}},
      {mes::CreatorType::ANNOTATION,
       {"annotation", "annotator", "labels", "labeler", "labeling", "annotations"}},
      {mes::CreatorType::BACKEND,
       {"backend", "curation", "data curation", "dataset", "dataset builder"}},
      {mes::CreatorType::MLOPS,
       {"mlops", "train", "training", "eval", "evaluation", "testing", "test", "retrain",
        "retraining", "fine-tune", "fine-tuning", "fine tune", "fine tuning", "transfer learning",
        "etl", "preprocessing", "augmentation", "augments"}},
      {mes::CreatorType::MONITOR, {"monitor", "monitoring", "db monitor", "pipeline monitor"}},
      {mes::CreatorType::UNKNOWN, {"unknown"}},
  };
  LogCapture capture;
  std::size_t aliases = 0;
  for (const auto& [expected, names] : table) {
    for (const auto& name : names) {
      EXPECT_EQ(mes::normalize_creator_type(name), expected) << name;
      EXPECT_EQ(mes::normalize_creator_type(upper(name)), expected) << upper(name);
      ++aliases;
    }
  }
  EXPECT_EQ(aliases, 42U);
  EXPECT_TRUE(capture.lines().empty()) << "a known alias must not warn";
}

TEST(NormalizeCreatorType, UnknownInputWarnsAndGivesUnknown) {
  LogCapture capture;
  EXPECT_EQ(mes::normalize_creator_type("quantum annealer"), mes::CreatorType::UNKNOWN);
  EXPECT_EQ(mes::normalize_creator_type(" etl"), mes::CreatorType::UNKNOWN);  // Exact match only.
  EXPECT_EQ(mes::normalize_creator_type(std::string(1000, 'x')), mes::CreatorType::UNKNOWN);
  EXPECT_EQ(mes::normalize_creator_type(""), mes::CreatorType::UNKNOWN);
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0].first, mlops::LogLevel::kWarning);
  EXPECT_NE(lines[0].second.find("quantum annealer"), std::string::npos);
}
