#include "mlops/orchestration/status.h"

namespace mlops::orchestration {

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kBackPressured: return "back_pressured";
    case Status::kTimeout: return "timeout";
    case Status::kClosed: return "closed";
    case Status::kTooLarge: return "too_large";
    case Status::kInvalidTopic: return "invalid_topic";
    case Status::kNoTopic: return "no_topic";
    case Status::kError: return "error";
    case Status::kDeliveryUnknown: return "delivery_unknown";
  }
  return "unrecognized";
}

}  // namespace mlops::orchestration
