// OptionReader: the one reader of every backend's text options.
#include "orchestration/option_reader.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mlops::orchestration {
namespace {

using detail::OptionReader;
using detail::whole_number;
using testing::LogCapture;

TEST(WholeNumber, TakesDigitsInRangeOnly) {
  EXPECT_EQ(whole_number("42", 0, 100), 42u);
  EXPECT_EQ(whole_number("0", 0, 100), 0u);
  EXPECT_EQ(whole_number("640", 0, 07777, 8), 0640u);
  EXPECT_FALSE(whole_number("", 0, 100));
  EXPECT_FALSE(whole_number("101", 0, 100));
  EXPECT_FALSE(whole_number("4", 5, 100));
  EXPECT_FALSE(whole_number("-1", 0, 100));
  EXPECT_FALSE(whole_number("+1", 0, 100));
  EXPECT_FALSE(whole_number("1 ", 0, 100));
  EXPECT_FALSE(whole_number("0x10", 0, 100));
  EXPECT_FALSE(whole_number("99999999999999999999999", 0, ~std::uint64_t{0}));
  EXPECT_FALSE(whole_number("8", 0, 07777, 8));
}

TEST(OptionReader, AbsentKeysGiveTheFallbackAndPresentOnesTheirValue) {
  const BackendOptions options{{"n", "7"}, {"f", "yes"}, {"ms", "250"}, {"t", "text"}};
  OptionReader reader("test", options);
  EXPECT_EQ(reader.number("n", 1, 10, 3).value(), 7u);
  EXPECT_EQ(reader.number("absent", 1, 10, 3).value(), 3u);
  EXPECT_TRUE(reader.flag("f", false).value());
  EXPECT_FALSE(reader.flag("absent-flag", false).value());
  EXPECT_EQ(reader.millis("ms", 0, 1000, std::chrono::milliseconds(5)).value(),
            std::chrono::milliseconds(250));
  EXPECT_EQ(reader.text("t"), "text");
  EXPECT_FALSE(reader.text("absent-text"));
  EXPECT_TRUE(reader.unread().empty());
}

TEST(OptionReader, ABadValueIsAnErrorNamingWhoKeyValueAndRule) {
  const BackendOptions options{{"n", "lots"}, {"f", "maybe"}, {"big", "11"}, {"weird", "a\nb"}};
  OptionReader reader("mmap consumer", options);
  auto n = reader.number("n", 1, 10, 3);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(n.error().message, "mmap consumer option n='lots' must be a whole number from 1 to 10");
  auto big = reader.number("big", 1, 10, 3);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("big='11' must be a whole number from 1 to 10"),
            std::string::npos);
  auto f = reader.flag("f", false);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "mmap consumer option f='maybe' is not true/false");
  auto weird = reader.number("weird", 0, 10, 0);
  ASSERT_FALSE(weird);
  EXPECT_EQ(weird.error().message.find('\n'), std::string::npos) << "control bytes are escaped";
}

TEST(OptionReader, SecretValuesNeverAppearInErrors) {
  const BackendOptions options{{"password", "hunter2"}, {"api_token", "abc"}};
  OptionReader reader("redis", options);
  auto password = reader.number("password", 0, 1, 0);
  ASSERT_FALSE(password);
  EXPECT_EQ(password.error().message.find("hunter2"), std::string::npos);
  EXPECT_NE(password.error().message.find("***"), std::string::npos);
  EXPECT_EQ(reader.invalid("api_token", "is bad").message.find("abc"), std::string::npos);
}

TEST(OptionReader, UnreadKeysAreWarnedAboutOnceEachWithTheirNote) {
  const BackendOptions options{{"used", "1"}, {"typo", "1"}, {"queue_only", "1"}};
  LogCapture logs;
  OptionReader reader("mmap producer", options);
  ASSERT_TRUE(reader.number("used", 0, 9, 0));
  EXPECT_EQ(reader.unread(), (std::set<std::string, std::less<>>{"queue_only", "typo"}));
  reader.warn_unread({"queue_only"}, "which the queue's URI sets");
  EXPECT_EQ(logs.count(LogLevel::kWarning, "mmap producer: ignoring unknown option 'typo'"), 1u);
  EXPECT_EQ(logs.count(LogLevel::kWarning,
                       "mmap producer: ignoring option 'queue_only', which the queue's URI sets"),
            1u);
  EXPECT_EQ(logs.count(LogLevel::kWarning, "'used'"), 0u);
}

TEST(OptionReader, EveryBackendWordsABadNumberTheSameWay) {
  for (const std::string uri :
       {"inproc://opts?max_messages=lots", "mmap:///tmp/mlops-option-reader?segment_bytes=lots",
        "kafka://mock?mock.brokers=1&timeout_ms=lots", "redis://127.0.0.1:1?timeout_ms=lots"}) {
    auto orch = Orchestration::from_uri(uri);
    if (orch) {  // some backends read their options when a queue or client is opened
      auto producer = Producer::create(*orch, "t");
      ASSERT_FALSE(producer) << uri;
      EXPECT_NE(producer.error().message.find("='lots' must be a whole number from"),
                std::string::npos)
          << uri << ": " << producer.error().message;
      continue;
    }
    EXPECT_NE(orch.error().message.find("='lots' must be a whole number from"), std::string::npos)
        << uri << ": " << orch.error().message;
  }
}

}  // namespace
}  // namespace mlops::orchestration
