// Producer semantics the same for every backend (backend_cases()): topic lists.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/api_fixture.h"

namespace mlops::orchestration::testing {
namespace {

class ProducerApi : public BackendFixture {};

// Regression: with_topic({"a", "a", "b"}) gave three reports and two copies in a.
TEST_P(ProducerApi, RepeatedTopicNameSendsOnce) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con_a = consumer(a);
  auto con_b = consumer(b);
  std::map<std::pair<std::string, std::int64_t>, int> reports;
  const ProducerOptions options{.on_delivery = [&](const DeliveryReport& report) {
    EXPECT_EQ(report.status, Status::kOk);
    ++reports[{std::string(report.topic), number_of(report.message)}];
  }};
  auto pro = producer({}, options);
  ASSERT_EQ(pro.send(numbered(1, {a, a, b, a}), true), Status::kOk);
  // The producer's own list too.
  auto listed = producer({b, b}, options);
  EXPECT_EQ(listed.topics(), std::vector<std::string>{b});
  ASSERT_EQ(listed.send(numbered(2), true), Status::kOk);

  const std::map<std::pair<std::string, std::int64_t>, int> once{
      {{a, 1}, 1}, {{b, 1}, 1}, {{b, 2}, 1}};
  EXPECT_EQ(reports, once);
  EXPECT_EQ(pro.stats().sent, 2u);
  EXPECT_EQ(listed.stats().sent, 1u);
  EXPECT_EQ(numbers_of(receive_n(con_a, 1)), std::vector<std::int64_t>{1});
  EXPECT_EQ(numbers_of(receive_n(con_b, 2)), (std::vector<std::int64_t>{1, 2}));
  // Both sends were flushed: a second copy would be there to receive by now.
  EXPECT_TRUE(con_a.receive(200ms).empty()) << "sent twice to one topic";
  EXPECT_TRUE(con_b.receive(200ms).empty()) << "sent twice to one topic";
}

INSTANTIATE_TEST_SUITE_P(Backends, ProducerApi, ::testing::ValuesIn(backend_cases()), backend_name);

}  // namespace
}  // namespace mlops::orchestration::testing
