#pragma once
// The fixture of the semantics suites that run against every backend (backend_cases()):
// a fresh, isolated orchestration per test, and helpers that make producers and consumers.

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

#include "support/backend_cases.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {

class BackendFixture : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
    auto orch = Orchestration::from_uri(GetParam().make_uri(unique_name("b")));
    ASSERT_TRUE(orch) << orch.error().message;
    orch_ = std::move(*orch);
  }

  Producer producer(TopicList topics = {}, ProducerOptions options = {}) {
    auto made = Producer::create(*orch_, std::move(topics), std::move(options));
    EXPECT_TRUE(made) << made.error().message;
    return std::move(*made);
  }
  Consumer consumer(TopicList topics, ConsumerOptions options = {}) {
    auto made = Consumer::create(std::move(topics), *orch_, std::move(options));
    EXPECT_TRUE(made) << made.error().message;
    return std::move(*made);
  }

  std::optional<Orchestration> orch_;
};

/// How gtest prints a case (its name, not its bytes).
inline void PrintTo(const BackendCase& backend, std::ostream* out) { *out << backend.name; }

/// The test name suffix of a backend case.
inline std::string backend_name(const ::testing::TestParamInfo<BackendCase>& info) {
  return info.param.name;
}

}  // namespace mlops::orchestration::testing
