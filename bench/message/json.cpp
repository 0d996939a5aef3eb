// nlohmann::json: the original system's dict, dumped and parsed.
#include "message/codecs.h"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mlops::bench::message {

using nlohmann::json;

namespace {

std::string base64(std::span<const std::byte> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::to_integer<std::uint32_t>(bytes[i]) << 16) |
                   (std::to_integer<std::uint32_t>(bytes[i + 1]) << 8) |
                   std::to_integer<std::uint32_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    auto n = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

json to_json_value(const mes::Value& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: return nullptr;
    case mes::ValueType::kBool: return *v.if_bool();
    case mes::ValueType::kInt: return *v.if_int();
    case mes::ValueType::kDouble: return *v.if_double();
    case mes::ValueType::kString: return *v.if_string();
    case mes::ValueType::kBytes: return base64(*v.if_bytes());  // JSON has no bytes.
    case mes::ValueType::kList: {
      json list = json::array();
      for (const auto& element : *v.if_list()) list.push_back(to_json_value(element));
      return list;
    }
    case mes::ValueType::kMap: {
      json map = json::object();
      for (const auto& [key, element] : *v.if_map()) map[key] = to_json_value(element);
      return map;
    }
  }
  return nullptr;
}

json json_list(const std::vector<std::string>& values, bool is_list) {
  if (values.empty()) return nullptr;
  if (!is_list) return values.front();
  return values;
}

std::string uuid_text(const wire::MessageId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  std::size_t pos = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    const std::uint64_t word = nibble < 16 ? id.hi() : id.lo();
    text[pos++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xF];
  }
  return text;
}

}  // namespace

/// The original system: a dict of every attribute (None where unset), then json.dumps.
std::string dump_json(const Source& m, IdGenerator& ids) {
  const std::int64_t now = IdGenerator::now_ns();
  json args = json::object();
  for (const auto& [key, value] : m.args) args[key] = to_json_value(value);
  json j = {
      {"msg_type", mes::to_string(m.msg_type)},
      {"topic", json_list(m.topic, m.topic_is_list)},
      {"creator", m.creator ? json(*m.creator) : json(nullptr)},
      {"creator_type", mes::to_string(m.creator_type)},
      {"stage", m.stage ? json(mes::to_string(*m.stage)) : json(nullptr)},
      {"next_task", json_list(m.next_task, m.next_task_is_list)},
      {"user_message", m.user_message ? json(*m.user_message) : json(nullptr)},
      {"retries", m.retries},
      {"output", json_list(m.output, m.output_is_list)},
      {"recipient", json_list(m.recipient, m.recipient_is_list)},
      {"additional_arguments", std::move(args)},
      {"id", uuid_text(ids.next(now))},
      {"timestamp_ns", now},
  };
  return j.dump();
}

namespace {

void read_json_value(Hash& s, const json& v) {
  switch (v.type()) {
    case json::value_t::null: s.add(kNull); return;
    case json::value_t::boolean:
      s.add(kBool);
      s.add(v.get<bool>());
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      s.add(kInt);
      s.add(v.get<std::uint64_t>());
      return;
    case json::value_t::number_float:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(v.get<double>()));
      return;
    case json::value_t::string:
      s.add(kString);
      s.text(v.get_ref<const std::string&>());
      return;
    case json::value_t::array:
      s.add(kList);
      s.add(v.size());
      for (const auto& element : v) read_json_value(s, element);
      return;
    case json::value_t::object:
      s.add(kMap);
      s.add(v.size());
      for (const auto& [key, element] : v.items()) {
        s.text(key);
        read_json_value(s, element);
      }
      return;
    default: s.add(kOther); return;
  }
}

void read_json_list(Hash& s, const json& v) {
  if (v.is_null()) {
    s.add(0);
    s.add(0);
  } else if (v.is_string()) {
    s.add(1);
    s.add(0);
    s.text(v.get_ref<const std::string&>());
  } else {
    s.add(v.size());
    s.add(1);
    for (const auto& text : v) s.text(text.get_ref<const std::string&>());
  }
}

void read_json_text(Hash& s, const json& v) {
  if (v.is_string()) s.text(v.get_ref<const std::string&>());
  else s.missing();
}

/// Parses the text and reads every field, as the original's receivers did.
std::uint64_t parse_read_json(std::string_view text) {
  const json j = json::parse(text);
  Hash s;
  s.text(j.at("msg_type").get_ref<const std::string&>());
  read_json_list(s, j.at("topic"));
  read_json_text(s, j.at("creator"));
  s.text(j.at("creator_type").get_ref<const std::string&>());
  read_json_text(s, j.at("stage"));
  read_json_list(s, j.at("next_task"));
  read_json_text(s, j.at("user_message"));
  s.add(j.at("retries").get<std::uint32_t>());
  read_json_list(s, j.at("output"));
  read_json_list(s, j.at("recipient"));
  const auto& args = j.at("additional_arguments");
  s.add(args.size());
  for (const auto& [key, value] : args.items()) {
    s.text(key);
    read_json_value(s, value);
  }
  s.text(j.at("id").get_ref<const std::string&>());
  s.add(j.at("timestamp_ns").get<std::uint64_t>());
  return s.h;
}

}  // namespace

// build: fills every field and finishes the message, id and timestamp included.

void json_build(benchmark::State& state, const Fixture& f) {
  IdGenerator ids;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto text = dump_json(f.source, ids);
    keep(text);
    size = text.size();
  }
  counters.finish(size, size);
}

// verify_read: what a receiver does with the bytes it was handed.

void json_parse_read(benchmark::State& state, const Fixture& f) {
  std::string_view text = f.json_text;
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(text);
    checksum = parse_read_json(text);
    keep(checksum);
  }
  counters.finish(text.size(), checksum);
}

// round_trip: build, then verify (or parse) and read every field.

void json_round_trip(benchmark::State& state, const Fixture& f) {
  IdGenerator ids;
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto text = dump_json(f.source, ids);
    keep(text);
    checksum = parse_read_json(text);
    keep(checksum);
    size = text.size();
  }
  counters.finish(size, checksum & 0xFFF);
}

}  // namespace mlops::bench::message
