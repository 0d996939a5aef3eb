// Orchestration URIs, the builder, detect(), topic names, statuses and filters.
#include <gtest/gtest.h>

#include "orchestration/uri.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

TEST(Orchestration, InprocUriGivesItsParts) {
  const auto orch = Orchestration::from_uri("inproc://pipeline-a");
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->orchestrator(), "inproc");
  EXPECT_EQ(orch->connection(), "pipeline-a");
  EXPECT_TRUE(orch->options().empty());
  EXPECT_EQ(orch->uri(), "inproc://pipeline-a");
}

TEST(Orchestration, SchemeIsCaseInsensitive) {
  const auto orch = Orchestration::from_uri("InProc://Mixed.Case_name");
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->orchestrator(), "inproc");
  EXPECT_EQ(orch->connection(), "Mixed.Case_name");
}

TEST(Orchestration, QueryBecomesOptions) {
  const auto orch = Orchestration::from_uri("inproc://with-options?max_messages=10&max_bytes=4096");
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->options().at("max_messages"), "10");
  EXPECT_EQ(orch->options().at("max_bytes"), "4096");
  EXPECT_EQ(orch->uri(), "inproc://with-options?max_bytes=4096&max_messages=10");
}

TEST(Orchestration, NoneHasTwoSpellings) {
  for (const char* uri : {"none:", "none://", "NONE:"}) {
    const auto orch = Orchestration::from_uri(uri);
    ASSERT_TRUE(orch) << uri << ": " << orch.error().message;
    EXPECT_EQ(orch->orchestrator(), "none");
    EXPECT_EQ(orch->connection(), "");
    EXPECT_EQ(orch->uri(), "none:");
  }
}

struct BadUri {
  const char* uri;
  const char* says;  // part of the error message
};

TEST(Orchestration, MalformedUrisSayWhatIsWrong) {
  const BadUri cases[] = {
      {"", "empty"},
      {"inproc", "no scheme"},
      {"inproc:name", "expected '//'"},
      {"://name", "scheme before ':' is empty"},
      {"1nproc://x", "scheme"},
      {"in proc://x", "scheme"},
      {"inproc://", "needs a broker name"},
      {"inproc://bad name", "broker name"},
      {"inproc://a/b", "broker name"},
      {"inproc://x?max_messages", "not KEY=VALUE"},
      {"inproc://x?=1", "not KEY=VALUE"},
      {"inproc://x?max_messages=1&", "ends with '&'"},
      {"inproc://x?max_messages=1&max_messages=2", "given twice"},
      {"inproc://x?max_messages=lots", "max_messages='lots' must be a whole number from 1 to"},
      {"inproc://x?max_bytes=0", "max_bytes='0' must be a whole number from 1 to"},
      {"inproc://x?max_messages=16777217", "must be a whole number from 1 to 16777216"},
      {"none://somewhere", "takes no connection"},
      {"carrier-pigeon://coop", "unknown orchestrator 'carrier-pigeon'"},
  };
  for (const auto& bad : cases) {
    const auto orch = Orchestration::from_uri(bad.uri);
    ASSERT_FALSE(orch) << "accepted '" << bad.uri << "'";
    EXPECT_EQ(orch.error().code, ErrorCode::kInvalidArgument) << bad.uri;
    EXPECT_NE(orch.error().message.find(bad.says), std::string::npos)
        << "'" << bad.uri << "' gave: " << orch.error().message;
  }
}

TEST(Orchestration, UnknownSchemeListsTheKnownOnes) {
  const auto orch = Orchestration::from_uri("pigeon://coop:9092");
  ASSERT_FALSE(orch);
  EXPECT_NE(orch.error().message.find("inproc"), std::string::npos) << orch.error().message;
  EXPECT_NE(orch.error().message.find("none"), std::string::npos) << orch.error().message;
}

TEST(Orchestration, RedactedUriHidesPasswordsSecretsAndTokens) {
  using detail::redact_uri;
  EXPECT_EQ(redact_uri("redis://user:s3cret@host:6379/2"), "redis://user:***@host:6379/2");
  EXPECT_EQ(redact_uri("redis://:s3cret@host"), "redis://:***@host");
  EXPECT_EQ(redact_uri("redis://user@host"), "redis://user@host");  // a name is no secret
  EXPECT_EQ(redact_uri("kafka://h:9092?sasl.password=p&linger.ms=5&Api_Token=t&x"),
            "kafka://h:9092?sasl.password=***&linger.ms=5&Api_Token=***&x");
  EXPECT_EQ(redact_uri("mmap:///tmp/q@x:y"), "mmap:///tmp/q@x:y");  // no ':' before the '@'
  EXPECT_EQ(redact_uri("inproc://a"), "inproc://a");
}

TEST(Orchestration, ErrorsAndRedactedUriNeverQuoteASecret) {
  const auto unknown = Orchestration::from_uri("nosuch://u:pw-one@h?password=pw-two");
  ASSERT_FALSE(unknown);
  const auto malformed =
      Orchestration::from_uri("inproc://a?client_secret=pw-three&password=x&password=y");
  ASSERT_FALSE(malformed);
  const auto no_scheme = Orchestration::from_uri("host?token=pw-four");
  ASSERT_FALSE(no_scheme);
  for (const auto* error : {&unknown.error(), &malformed.error(), &no_scheme.error()}) {
    for (const char* secret : {"pw-one", "pw-two", "pw-three", "pw-four"}) {
      EXPECT_EQ(error->message.find(secret), std::string::npos) << error->message;
    }
  }
  EXPECT_NE(malformed.error().message.find("given twice"), std::string::npos)
      << malformed.error().message;
  const auto orch = Orchestration::from_uri("inproc://redaction?password=pw-five&max_messages=10");
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->redacted_uri(), "inproc://redaction?max_messages=10&password=***");
  EXPECT_NE(orch->uri().find("pw-five"), std::string::npos);  // uri() is for reopening
}

TEST(Orchestration, DetectWithoutVariableIsTheEmbeddedDefault) {
  const ScopedEnv env("MLOPS_ORCHESTRATION", nullptr);
  const auto orch = Orchestration::detect();
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->uri(), Orchestration::kDefaultUri);
  EXPECT_EQ(orch->orchestrator(), "mmap");
  EXPECT_EQ(orch->connection(), "./.mlops");
}

TEST(Orchestration, DetectEmptyVariableIsTheEmbeddedDefault) {
  const ScopedEnv env("MLOPS_ORCHESTRATION", "");
  const auto orch = Orchestration::detect();
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->uri(), Orchestration::kDefaultUri);
}

TEST(Orchestration, DetectReadsTheVariable) {
  const ScopedEnv env("MLOPS_ORCHESTRATION", "inproc://from-env");
  const auto orch = Orchestration::detect();
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->connection(), "from-env");
}

TEST(Orchestration, DetectReportsAMalformedVariable) {
  const ScopedEnv env("MLOPS_ORCHESTRATION", "inproc:oops");
  const auto orch = Orchestration::detect();
  ASSERT_FALSE(orch);
  EXPECT_NE(orch.error().message.find("MLOPS_ORCHESTRATION"), std::string::npos)
      << orch.error().message;
}

TEST(OrchestrationBuilder, BuildsFromParts) {
  const auto orch =
      OrchestrationBuilder().with_orchestrator("inproc").with_connection("built").build();
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->uri(), "inproc://built");
}

TEST(OrchestrationBuilder, LaterCallsOverwrite) {
  const auto orch = OrchestrationBuilder()
                        .with_orchestrator("none")
                        .with_orchestrator("INPROC")
                        .with_connection("first")
                        .with_connection("second")
                        .with_option("max_messages", "5")
                        .build();
  ASSERT_TRUE(orch) << orch.error().message;
  EXPECT_EQ(orch->orchestrator(), "inproc");
  EXPECT_EQ(orch->connection(), "second");
  EXPECT_EQ(orch->options().at("max_messages"), "5");
}

TEST(OrchestrationBuilder, MissingConnectionIsTheBackendDefault) {
  const auto inproc = OrchestrationBuilder().with_orchestrator("inproc").build();
  ASSERT_TRUE(inproc) << inproc.error().message;
  EXPECT_EQ(inproc->connection(), "default");
  const auto none = OrchestrationBuilder().with_orchestrator("none").build();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->uri(), "none:");
}

TEST(OrchestrationBuilder, MissingOrchestratorIsDetected) {
  const ScopedEnv env("MLOPS_ORCHESTRATION", "none:");
  const auto detected = OrchestrationBuilder().build();
  ASSERT_TRUE(detected) << detected.error().message;
  EXPECT_EQ(detected->orchestrator(), "none");

  const ScopedEnv inproc("MLOPS_ORCHESTRATION", "inproc://env-broker");
  const auto with_connection = OrchestrationBuilder().with_connection("mine").build();
  ASSERT_TRUE(with_connection) << with_connection.error().message;
  EXPECT_EQ(with_connection->uri(), "inproc://mine");
}

TEST(OrchestrationBuilder, UnknownOrBadOrchestratorIsAnError) {
  for (const char* name : {"nope", "inproc://x", ""}) {
    const auto orch = OrchestrationBuilder().with_orchestrator(name).with_connection("c").build();
    ASSERT_FALSE(orch) << name;
    EXPECT_EQ(orch.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Orchestration, SameNameMeansSameBroker) {
  const auto name = unique_name();
  const auto a = Orchestration::from_uri("inproc://" + name).value();
  const auto b = Orchestration::from_uri("inproc://" + name).value();
  const auto elsewhere = Orchestration::from_uri("inproc://" + name + "-other").value();
  auto con_b = Consumer::create("t", b).value();
  auto con_elsewhere = Consumer::create("t", elsewhere).value();
  auto pro_a = Producer::create(a, "t").value();
  ASSERT_EQ(pro_a.send(numbered(1)), Status::kOk);
  EXPECT_EQ(receive_n(con_b, 1).size(), 1u);
  EXPECT_TRUE(con_elsewhere.receive(30ms).empty());
}

TEST(TopicName, FollowsTheRule) {
  for (const char* good :
       {"a", "Z", "0", "etl-done", "train_done", "v1.2", "A-b_c.9", "...", ".a"}) {
    EXPECT_TRUE(is_valid_topic_name(good)) << good;
  }
  for (const char* bad :
       {"", " ", "a b", "a/b", "a:b", "tab\t", "caf\xc3\xa9", "a*", "#", ".", ".."}) {
    EXPECT_FALSE(is_valid_topic_name(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_topic_name(std::string(kMaxTopicNameLength, 'x')));
  EXPECT_FALSE(is_valid_topic_name(std::string(kMaxTopicNameLength + 1, 'x')));
  EXPECT_FALSE(is_valid_topic_name(std::string_view("a\0b", 3)));
}

TEST(TopicList, TakesOneOrMany) {
  EXPECT_TRUE(TopicList().empty());
  EXPECT_EQ(TopicList("a").names(), std::vector<std::string>{"a"});
  EXPECT_EQ(TopicList(std::string("b")).names(), std::vector<std::string>{"b"});
  EXPECT_EQ(TopicList({"a", "b"}).names(), (std::vector<std::string>{"a", "b"}));
  const std::vector<std::string_view> views{"x", "y"};
  EXPECT_EQ(TopicList(views).names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(TopicList({"ok", "not ok"}).first_invalid()->compare("not ok"), 0);
  EXPECT_EQ(TopicList{"ok"}.first_invalid(), nullptr);
}

TEST(Status, HasReadableNames) {
  EXPECT_EQ(to_string(Status::kOk), "ok");
  EXPECT_EQ(to_string(Status::kBackPressured), "back_pressured");
  EXPECT_EQ(to_string(Status::kTimeout), "timeout");
  EXPECT_EQ(to_string(Status::kClosed), "closed");
  EXPECT_EQ(to_string(Status::kTooLarge), "too_large");
  EXPECT_EQ(to_string(Status::kInvalidTopic), "invalid_topic");
  EXPECT_EQ(to_string(Status::kNoTopic), "no_topic");
  EXPECT_EQ(to_string(Status::kError), "error");
  EXPECT_EQ(to_string(Status::kDeliveryUnknown), "delivery_unknown");
}

TEST(MessageFilter, DefaultAcceptsAndCallablesDecide) {
  const auto msg = numbered(4);
  EXPECT_TRUE(MessageFilter()(msg));
  int calls = 0;
  auto even = [&](const mes::MLOpsMessage& m) {
    ++calls;
    return number_of(m) % 2 == 0;
  };
  EXPECT_TRUE(MessageFilter(even)(msg));
  EXPECT_FALSE(MessageFilter([](const mes::MLOpsMessage&) { return false; })(msg));
  EXPECT_EQ(calls, 1);
  bool (*null_function)(const mes::MLOpsMessage&) = nullptr;
  EXPECT_TRUE(MessageFilter(null_function)(msg));
}

}  // namespace
}  // namespace mlops::orchestration::testing
