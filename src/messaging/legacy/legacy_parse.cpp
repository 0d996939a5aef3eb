// legacy_json::parse: JSON text to a Value through nlohmann's SAX parser, which is
// iterative (no recursion on nesting) and validates UTF-8; the depth limit is ours.

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "messaging/legacy/json_text.h"
#include "mlops/messaging/legacy_json.h"

namespace mlops::messaging::legacy_json {
namespace {

/// Absolute bound on nesting: FlexBuffers' limit for the message plus add_data.
constexpr std::size_t kMaxDepth = 64;

class ValueBuilder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ValueBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() override { return add(Value()); }
  bool boolean(bool value) override { return add(Value(value)); }
  bool number_integer(number_integer_t value) override { return add(Value(value)); }
  bool number_unsigned(number_unsigned_t value) override {
    // Above INT64_MAX a JSON integer has no exact int64: keep it as the nearest double.
    if (value > static_cast<number_unsigned_t>(INT64_MAX)) {
      return add(Value(static_cast<double>(value)));
    }
    return add(Value(static_cast<std::int64_t>(value)));
  }
  bool number_float(number_float_t value, const string_t& /*text*/) override {
    return add(Value(static_cast<double>(value)));
  }
  bool string(string_t& value) override { return add(Value(std::move(value))); }
  bool binary(binary_t& /*value*/) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t /*elements*/) override { return open(true); }
  bool key(string_t& value) override {
    frames_.back().key = std::move(value);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t /*elements*/) override { return open(false); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    if (error_.empty()) {
      // nlohmann quotes the input it stopped at, which may be any bytes.
      error_ = "not JSON at byte " + std::to_string(position) + ": " +
               detail::printable(error.what(), 200);
    }
    return false;
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] Value take() { return std::move(root_); }

 private:
  struct Frame {
    bool is_map;
    Value::List list;
    Value::Map map;
    std::string key;
  };

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool open(bool is_map) {
    if (frames_.size() >= max_depth_) {
      return fail("JSON nests deeper than " + std::to_string(max_depth_) + " levels");
    }
    frames_.push_back(Frame{is_map, {}, {}, {}});
    return true;
  }
  bool close() {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    return frame.is_map ? add(Value(std::move(frame.map))) : add(Value(std::move(frame.list)));
  }
  bool add(Value value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return true;
    }
    auto& top = frames_.back();
    if (top.is_map) {
      // A key given twice keeps its last value, as Python's json.loads does.
      top.map.insert_or_assign(std::move(top.key), std::move(value));
      top.key.clear();
    } else {
      top.list.push_back(std::move(value));
    }
    return true;
  }

  std::size_t max_depth_;
  std::vector<Frame> frames_;
  Value root_;
  std::string error_;
};

}  // namespace

Result<Value> parse(std::string_view json, const Limits& limits) {
  if (json.empty()) return Error{ErrorCode::kEmpty, "legacy JSON: no bytes"};
  if (json.size() > limits.max_bytes) {
    return Error{ErrorCode::kTooLarge, "legacy JSON of " + std::to_string(json.size()) +
                                           " bytes is over the limit of " +
                                           std::to_string(limits.max_bytes)};
  }
  // nlohmann's lexer takes a NUL byte for the end of input and ignores what follows; JSON
  // text has none anywhere (inside a string it must be written \u0000).
  if (const auto nul = json.find('\0'); nul != std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument,
                 "legacy JSON: a NUL byte at offset " + std::to_string(nul) +
                     " (JSON text has none; inside a string it is written \\u0000)"};
  }
  const std::size_t depth = limits.max_depth < kMaxDepth ? limits.max_depth : kMaxDepth;
  ValueBuilder builder(depth);
  bool parsed = false;
  try {
    parsed = nlohmann::json::sax_parse(json.begin(), json.end(), &builder,
                                       nlohmann::json::input_format_t::json, /*strict=*/true);
  } catch (const std::bad_alloc&) {
    return Error{ErrorCode::kTooLarge, "legacy JSON: out of memory while parsing"};
  } catch (const std::exception& error) {
    return Error{ErrorCode::kInvalidArgument,
                 "legacy JSON: " + detail::printable(error.what(), 200)};
  }
  if (!parsed) {
    return Error{
        ErrorCode::kInvalidArgument,
        "legacy JSON: " + (builder.error().empty() ? std::string("not JSON") : builder.error())};
  }
  return builder.take();
}

}  // namespace mlops::messaging::legacy_json
