#pragma once
// Messages the tests, the fuzzer's seed corpus and the examples agree on, and a reader
// that touches every byte a user could reach through the public API.

#include <mlops/messaging.h>

#include <cstdint>
#include <string>

namespace mlops::testing {

namespace mes = mlops::messaging;

/// The seed README's message, with a topic and an output added.
inline mes::MLOpsMessage make_seed_message() {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::START)
      .with_creator_type("ETL")
      .with_creator("ETL")
      .with_user_msg("Hello World")
      .with_next_task("Train")
      .with_topic("Cool-New-Topic")
      .with_output("/data/etl/part-0001.parquet")
      .build();
}

/// Every field set, lists as lists, additional arguments of every value kind.
inline mes::MLOpsMessage make_full_message() {
  const std::byte blob[] = {std::byte{0}, std::byte{1}, std::byte{0xfe}, std::byte{0xff}};
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::COMPLETE)
      .with_topic({"Cool-New-Topic", "Sick-Topic"})
      .with_creator("trainer-7")
      .with_creator_type("Fine Tuning")
      .with_stage(mes::Stage::FINE_TUNE)
      .with_next_task({"Evaluate", "Monitor"})
      .with_user_msg("epoch 12 done")
      .with_retries(3)
      .with_output({"s3://models/resnet/12.pt", "/tmp/metrics.json"})
      .with_recipient({"evaluator", "dashboard"})
      .with_key("resnet-run-7")
      .with_trace_context("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
      .with_additional_argument("epochs", 12)
      .with_additional_argument("learning_rate", 0.001)
      .with_additional_argument("early_stop", true)
      .with_additional_argument("model", "resnet50")
      .with_additional_argument("checkpoint", std::span<const std::byte>(blob))
      .with_additional_argument("nothing", nullptr)
      .with_additional_argument("layers", mes::Value::List{64, 32, mes::Value::List{1.5, "x"}})
      .with_additional_argument(
          "metrics",
          mes::Value::Map{{"acc", 0.93}, {"loss", 0.21}, {"tags", mes::Value::List{"a"}}})
      .build();
}

/// Sums a value and everything under it, through every accessor.
inline std::uint64_t read_value(const mes::ValueView& value) {
  std::uint64_t sum = static_cast<std::uint64_t>(value.type());
  if (auto b = value.as_bool()) sum += *b ? 1 : 0;
  if (auto i = value.as_int()) sum += static_cast<std::uint64_t>(*i);
  if (auto d = value.as_double()) sum += static_cast<std::uint64_t>(*d != 0.0);
  if (auto s = value.as_string())
    sum += s->size() + (s->empty() ? 0 : static_cast<unsigned char>((*s)[0]));
  if (auto bytes = value.as_bytes()) {
    for (auto byte : *bytes) sum += static_cast<std::uint64_t>(byte);
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    sum += value.key_at(i).size();
    sum += read_value(value[i]);
    if (auto found = value.find(value.key_at(i))) sum += static_cast<std::uint64_t>(found->type());
  }
  sum += value[value.size()].is_null() ? 1 : 0;  // Out of range reads as null.
  return sum;
}

/// Reads every field of `msg`; the sum only keeps the reads from being optimised away.
inline std::uint64_t read_everything(const mes::MLOpsMessage& msg) {
  std::uint64_t sum = msg.bytes().size();
  sum += static_cast<std::uint64_t>(msg.message_type());
  sum += static_cast<std::uint64_t>(msg.creator_type());
  sum += msg.stage() ? static_cast<std::uint64_t>(*msg.stage()) : 99;
  sum += static_cast<std::uint64_t>(msg.retries());
  for (const auto& list : {msg.topic(), msg.next_task(), msg.output(), msg.recipient()}) {
    sum += list.is_list() ? 1 : 0;
    for (const auto text : list) sum += text.size();
  }
  sum += msg.creator().value_or("").size() + msg.user_message().value_or("").size();
  sum += msg.key().value_or("").size();
  if (const auto id = msg.id()) sum += id->hi ^ id->lo;
  sum += static_cast<std::uint64_t>(msg.timestamp().value_or(0));
  for (std::size_t i = 0; i < msg.additional_argument_count(); ++i) {
    const auto arg = msg.additional_argument_at(i);
    sum += read_value(arg.value) + arg.key.size();
    sum += msg.additional_argument(arg.key).has_value() ? 1 : 0;
    sum += arg.value.to_json().size();
    (void)arg.value.to_value();
  }
  (void)msg.additional_arguments();
  if (auto json = msg.to_json()) sum += json->size();
  return sum;
}

}  // namespace mlops::testing
