// W3C traceparent checks, MessageBuilder::with_trace_context and child_of.
#include <gtest/gtest.h>
#include <mlops/messaging.h>
#include <mlops/messaging/trace_context.h>

#include <random>
#include <set>
#include <stdexcept>
#include <string>

namespace mes = mlops::messaging;

namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string trace_id_of(std::string_view traceparent) {
  return std::string(traceparent.substr(3, 32));
}
std::string span_id_of(std::string_view traceparent) {
  return std::string(traceparent.substr(36, 16));
}

}  // namespace

TEST(TraceContext, ValidTextPassesAndReadsBack) {
  EXPECT_TRUE(mes::check_traceparent(kValid));
  const auto msg = mes::MessageBuilder().with_trace_context(kValid).build();
  EXPECT_EQ(msg.trace_context(), kValid);
  auto json = msg.to_json();
  ASSERT_TRUE(json) << json.error().message;
  auto back = mes::MessageBuilder::from_json(*json);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->trace_context(), kValid);
}

TEST(TraceContext, UnsetReadsAsNullopt) {
  EXPECT_FALSE(mes::MessageBuilder().build().trace_context().has_value());
  EXPECT_FALSE(mes::MessageBuilder()
                   .with_trace_context(kValid)
                   .with_trace_context("")
                   .build()
                   .trace_context()
                   .has_value());
}

TEST(TraceContext, LaterVersionWithExtraFieldsPasses) {
  EXPECT_TRUE(mes::check_traceparent(std::string("01") + (kValid + 2) + "-abc-123"));
}

TEST(TraceContext, InvalidTextIsRefusedWithAReason) {
  const std::string valid = kValid;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "fewer than 55"},
      {"hello", "fewer than 55"},
      {valid.substr(0, 54), "fewer than 55"},
      {valid + "-", "exactly 55"},
      {"ff" + valid.substr(2), "version ff"},
      {"0g" + valid.substr(2), "version"},
      {"00_" + valid.substr(3), "separated"},
      {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "trace id"},
      {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "all zeros"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "span id is all zeros"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01", "span id"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", "flags"},
      {"01" + valid.substr(2) + "x", "follow a '-'"},
      {std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0") + '\0', "flags"},
  };
  for (const auto& [text, reason] : bad) {
    auto checked = mes::check_traceparent(text);
    ASSERT_FALSE(checked) << text;
    EXPECT_EQ(checked.error().code, mlops::ErrorCode::kInvalidArgument);
    EXPECT_NE(checked.error().message.find(reason), std::string::npos)
        << text << ": " << checked.error().message;
    if (text.empty()) continue;  // The builder takes "" as "remove the trace context".
    mes::MessageBuilder builder;
    builder.with_user_msg("kept");
    try {
      builder.with_trace_context(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("invalid traceparent"), std::string::npos);
    }
    // The refused call changed nothing.
    const auto msg = builder.build();
    EXPECT_FALSE(msg.trace_context().has_value());
    EXPECT_EQ(msg.user_message(), "kept");
  }
}

TEST(TraceContext, ChildKeepsTraceIdAndFlagsWithANewSpan) {
  const auto parent = mes::MessageBuilder().with_trace_context(kValid).build();
  const auto child = mes::MessageBuilder::child_of(parent).with_user_msg("next").build();
  ASSERT_TRUE(child.trace_context().has_value());
  const auto text = *child.trace_context();
  EXPECT_TRUE(mes::check_traceparent(text));
  EXPECT_EQ(trace_id_of(text), trace_id_of(kValid));
  EXPECT_NE(span_id_of(text), span_id_of(kValid));
  EXPECT_EQ(text.substr(53), "01");
  EXPECT_EQ(child.user_message(), "next");
  const auto grandchild = mes::MessageBuilder::child_of(child).build();
  EXPECT_EQ(trace_id_of(*grandchild.trace_context()), trace_id_of(kValid));
}

TEST(TraceContext, ChildOfAnUntracedParentStartsAFreshTrace) {
  const auto parent = mes::MessageBuilder().build();
  std::set<std::string> traces;
  for (int i = 0; i < 100; ++i) {
    const auto child = mes::MessageBuilder::child_of(parent).build();
    ASSERT_TRUE(child.trace_context().has_value());
    EXPECT_TRUE(mes::check_traceparent(*child.trace_context()));
    traces.insert(trace_id_of(*child.trace_context()));
  }
  EXPECT_EQ(traces.size(), 100u) << "fresh trace ids repeat";
}

TEST(TraceContext, FromMessageKeepsTheTraceContext) {
  const auto msg = mes::MessageBuilder().with_trace_context(kValid).build();
  EXPECT_EQ(mes::MessageBuilder::from_message(msg).build().trace_context(), kValid);
}

TEST(TraceContext, OverwrittenValueLeavesNoTrace) {
  const std::string first = "00-11111111111111111111111111111111-2222222222222222-01";
  const auto msg =
      mes::MessageBuilder().with_trace_context(first).with_trace_context(kValid).build();
  const auto bytes = msg.bytes();
  const std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_EQ(all.find("1111111111111111"), std::string_view::npos);
  EXPECT_EQ(msg.trace_context(), kValid);
}

TEST(TraceContext, RandomTextNeverCrashesAndAcceptsOnlyTheGrammar) {
  std::mt19937 engine(17);
  const std::string alphabet = "0123456789abcdefABCDEF-xz\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    // Mostly near the real length, sometimes a valid text with one character changed.
    if (i % 2 == 0) {
      text = kValid;
      text[engine() % text.size()] = alphabet[engine() % alphabet.size()];
    } else {
      const auto length = engine() % 70;
      for (std::size_t j = 0; j < length; ++j) text += alphabet[engine() % alphabet.size()];
    }
    const bool accepted = static_cast<bool>(mes::check_traceparent(text));
    if (!accepted) continue;
    // What passes has the grammar's shape, and builds and reads back.
    ASSERT_GE(text.size(), mes::kTraceparentLength) << text;
    ASSERT_EQ(text.find_first_not_of("0123456789abcdef-"), std::string::npos) << text;
    EXPECT_EQ(mes::MessageBuilder().with_trace_context(text).build().trace_context(), text);
  }
}
