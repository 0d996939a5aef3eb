#include "orchestration/kafka/kafka_python_names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

namespace mlops::orchestration::detail::kafka {
namespace {

// How a value changes on the way.
enum class Convert : std::uint8_t {
  kSame,         // text as given (ms stay ms, bytes stay bytes, counts stay counts)
  kLower,        // enum text in any case: PLAINTEXT -> plaintext, gzip, earliest
  kCompression,  // None -> none, else lower case
  kBool,         // True/False/1/0 -> true/false
  kKilobytes,    // bytes -> KiB, rounded up (buffer_memory -> queue.buffering.max.kbytes)
  kHostname,     // ssl_check_hostname True/False -> https/none
};

struct Entry {
  std::string_view python;
  std::string_view property;  // empty: ignored, see note
  Convert convert = Convert::kSame;
  std::string_view note = {};
};

constexpr std::array kTable = {
    Entry{"bootstrap_servers", "bootstrap.servers"},
    Entry{"client_id", "client.id"},
    Entry{"linger_ms", "linger.ms"},
    Entry{"batch_size", "batch.size"},
    Entry{"acks", "acks", Convert::kLower},
    Entry{"retries", "retries"},
    Entry{"retry_backoff_ms", "retry.backoff.ms"},
    Entry{"compression_type", "compression.codec", Convert::kCompression},
    Entry{"max_request_size", "message.max.bytes"},
    Entry{"buffer_memory", "queue.buffering.max.kbytes", Convert::kKilobytes},
    Entry{"max_in_flight_requests_per_connection", "max.in.flight.requests.per.connection"},
    Entry{"enable_idempotence", "enable.idempotence", Convert::kBool},
    Entry{"transactional_id", "transactional.id"},
    Entry{"request_timeout_ms", "request.timeout.ms"},
    Entry{"delivery_timeout_ms", "delivery.timeout.ms"},
    Entry{"security_protocol", "security.protocol", Convert::kLower},
    Entry{"sasl_mechanism", "sasl.mechanisms"},
    Entry{"sasl_plain_username", "sasl.username"},
    Entry{"sasl_plain_password", "sasl.password"},
    Entry{"sasl_kerberos_service_name", "sasl.kerberos.service.name"},
    Entry{"ssl_cafile", "ssl.ca.location"},
    Entry{"ssl_certfile", "ssl.certificate.location"},
    Entry{"ssl_keyfile", "ssl.key.location"},
    Entry{"ssl_password", "ssl.key.password"},
    Entry{"ssl_crlfile", "ssl.crl.location"},
    Entry{"ssl_ciphers", "ssl.cipher.suites"},
    Entry{"ssl_check_hostname", "ssl.endpoint.identification.algorithm", Convert::kHostname},
    Entry{"group_id", "group.id"},
    Entry{"auto_offset_reset", "auto.offset.reset", Convert::kLower},
    Entry{"session_timeout_ms", "session.timeout.ms"},
    Entry{"heartbeat_interval_ms", "heartbeat.interval.ms"},
    Entry{"max_poll_interval_ms", "max.poll.interval.ms"},
    Entry{"auto_commit_interval_ms", "auto.commit.interval.ms"},
    Entry{"fetch_min_bytes", "fetch.min.bytes"},
    Entry{"fetch_max_wait_ms", "fetch.wait.max.ms"},
    Entry{"fetch_max_bytes", "fetch.max.bytes"},
    Entry{"max_partition_fetch_bytes", "max.partition.fetch.bytes"},
    Entry{"isolation_level", "isolation.level", Convert::kLower},
    Entry{"check_crcs", "check.crcs", Convert::kBool},
    Entry{"partition_assignment_strategy", "partition.assignment.strategy"},
    Entry{"connections_max_idle_ms", "connections.max.idle.ms"},
    Entry{"reconnect_backoff_ms", "reconnect.backoff.ms"},
    Entry{"reconnect_backoff_max_ms", "reconnect.backoff.max.ms"},
    Entry{"metadata_max_age_ms", "metadata.max.age.ms"},
    Entry{"receive_buffer_bytes", "socket.receive.buffer.bytes"},
    Entry{"send_buffer_bytes", "socket.send.buffer.bytes"},
    Entry{"enable_auto_commit", "", Convert::kSame,
          "commits are the Consumer's own: ConsumerOptions::auto_commit (Python: "
          "enable_auto_commit, which the binding maps)"},
    Entry{"max_poll_records", "", Convert::kSame,
          "ConsumerOptions::max_batch (Python: max_poll_records, which the binding maps)"},
    Entry{"api_version", "", Convert::kSame, "librdkafka negotiates the protocol version"},
    Entry{"consumer_timeout_ms", "", Convert::kSame, "receive() takes its own timeout"},
    Entry{"key_serializer", "", Convert::kSame, "the wire format is the library's (wire=...)"},
    Entry{"value_serializer", "", Convert::kSame, "the wire format is the library's (wire=...)"},
    Entry{"key_deserializer", "", Convert::kSame, "consumers read both wire formats"},
    Entry{"value_deserializer", "", Convert::kSame, "consumers read both wire formats"},
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error bad(std::string_view key, std::string_view value, std::string_view why) {
  return Error{ErrorCode::kInvalidArgument, "kafka option " + std::string(key) + "='" +
                                                std::string(value) + "' " + std::string(why)};
}

Result<std::string> convert(const Entry& entry, std::string_view value) {
  switch (entry.convert) {
    case Convert::kSame: return std::string(value);
    case Convert::kLower: return lower(value);
    case Convert::kCompression: {
      const auto codec = lower(value);
      return codec.empty() || codec == "none" ? std::string("none") : codec;
    }
    case Convert::kBool:
    case Convert::kHostname: {
      const auto text = lower(value);
      bool truth = false;
      if (text == "true" || text == "1") {
        truth = true;
      } else if (text != "false" && text != "0") {
        return bad(entry.python, value, "is not true or false");
      }
      if (entry.convert == Convert::kBool) return std::string(truth ? "true" : "false");
      return std::string(truth ? "https" : "none");
    }
    case Convert::kKilobytes: {
      std::uint64_t bytes = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), bytes);
      if (error != std::errc() || end != value.data() + value.size() ||
          bytes > (std::uint64_t{1} << 40)) {
        return bad(entry.python, value, "is not a byte count");
      }
      return std::to_string((bytes + 1023) / 1024);
    }
  }
  return std::string(value);
}

}  // namespace

Result<std::optional<TranslatedOption>> translate_kafka_python(std::string_view key,
                                                               std::string_view value) {
  const auto* entry =
      std::find_if(kTable.begin(), kTable.end(), [&](const Entry& e) { return e.python == key; });
  if (entry == kTable.end()) return std::optional<TranslatedOption>();
  if (entry->property.empty()) {
    return std::optional<TranslatedOption>(TranslatedOption{{}, {}, entry->note});
  }
  auto converted = convert(*entry, value);
  if (!converted) return converted.error();
  return std::optional<TranslatedOption>(
      TranslatedOption{std::string(entry->property), std::move(*converted), {}});
}

}  // namespace mlops::orchestration::detail::kafka
