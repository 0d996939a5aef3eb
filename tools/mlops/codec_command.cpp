// mlops decode [FILE|-] [--framed]   message bytes -> one line of JSON each
// mlops encode [FILE|-] [--framed]   lines of JSON -> message bytes

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "message_text.h"
#include "mlops/messaging/mlops_message.h"

namespace mlops::tool {
namespace {

struct CodecArgs {
  std::string input = "-";
  bool framed = false;
  bool keep_going = false;
};

// Far above any message (the Verifier refuses 2 GiB anyway); stops a mistaken input early.
constexpr std::size_t kMaxInputBytes = std::size_t{1} << 31;

// Reads all of `path` ("-": stdin), never through a symbolic link.
Result<std::string> read_input(const std::string& path) {
  const int fd =
      path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error{ErrorCode::kUnavailable, "cannot open '" + path + "': " + std::strerror(errno)};
  }
  std::string data;
  char chunk[1 << 16];
  Result<std::string> result = Error{ErrorCode::kInternal, ""};
  while (true) {
    const auto got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      result =
          Error{ErrorCode::kUnavailable, "cannot read '" + path + "': " + std::strerror(errno)};
      break;
    }
    if (got == 0) {
      result = std::move(data);
      break;
    }
    if (data.size() + static_cast<std::size_t>(got) > kMaxInputBytes) {
      result = Error{ErrorCode::kTooLarge, "'" + path + "' is larger than 2 GiB"};
      break;
    }
    data.append(chunk, static_cast<std::size_t>(got));
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return result;
}

int print_json(const messaging::MLOpsMessage& message) {
  auto json = message.to_json();
  if (!json) return fail("decode", json.error().message);
  write_stdout(*json + "\n");
  return kExitOk;
}

int run_decode(const CodecArgs& args) {
  auto data = read_input(args.input);
  if (!data) return fail("decode", data.error().message);
  if (!args.framed) {
    auto message = messaging::MLOpsMessage::from_bytes(*data);
    if (!message) return fail("decode", "not a message: " + message.error().message);
    return print_json(*message);
  }
  std::size_t at = 0;
  std::uint64_t number = 0;
  int status = kExitOk;
  while (at < data->size()) {
    ++number;
    if (data->size() - at < 4)
      return fail("decode", "frame " + std::to_string(number) + ": truncated length");
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
      size |= std::uint32_t{static_cast<unsigned char>((*data)[at + static_cast<std::size_t>(i)])}
              << (8 * i);
    at += 4;
    if (size > data->size() - at) {
      return fail("decode", "frame " + std::to_string(number) + ": says " + std::to_string(size) +
                                " bytes, " + std::to_string(data->size() - at) + " remain");
    }
    auto message = messaging::MLOpsMessage::from_bytes(std::string_view(*data).substr(at, size));
    at += size;
    if (!message) {
      status = fail("decode", "frame " + std::to_string(number) +
                                  ": not a message: " + message.error().message);
      if (!args.keep_going) return status;
      continue;
    }
    if (print_json(*message) != kExitOk) return kExitFailure;
    if (!flush_stdout()) return kExitOk;
  }
  return status;
}

int run_encode(const CodecArgs& args) {
  auto data = read_input(args.input);
  if (!data) return fail("encode", data.error().message);
  if (::isatty(STDOUT_FILENO) == 1) {
    return usage_error("encode",
                       "refusing to write binary to a terminal; redirect stdout to a file or pipe");
  }
  std::size_t start = 0;
  std::uint64_t number = 0;
  std::uint64_t written = 0;
  int status = kExitOk;
  while (start < data->size()) {
    auto end = data->find('\n', start);
    if (end == std::string::npos) end = data->size();
    const std::string_view line = std::string_view(*data).substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto message = message_from_json_line(line);
    if (!message) {
      status = fail("encode", "line " + std::to_string(number) + ": " + message.error().message);
      if (!args.keep_going) return status;
      continue;
    }
    if (!args.framed && written == 1) {
      return usage_error(
          "encode", "more than one message: give --framed to write them as length-prefixed frames");
    }
    const auto bytes = message->bytes();
    const std::string_view raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (!write_stdout(args.framed ? to_frame(*message) : std::string(raw))) return kExitOk;
    ++written;
  }
  if (written == 0 && status == kExitOk) return fail("encode", "no message in the input");
  return flush_stdout() ? status : kExitOk;
}

void common(CLI::App* cmd, CodecArgs& args) {
  cmd->add_option("FILE", args.input, "Input file, or - for stdin (default)");
  cmd->add_flag("--framed", args.framed,
                "Length-prefixed frames (4-byte LE size + bytes), as tail --format raw writes");
  cmd->add_flag("--keep-going", args.keep_going, "Report a bad message and go on to the next");
}

}  // namespace

void add_decode_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CodecArgs>();
  auto* cmd =
      app.add_subcommand("decode", "Verify message bytes and print them as one line of JSON");
  common(cmd, *args);
  cmd->callback([args, &exit_code] { exit_code = run_decode(*args); });
}

void add_encode_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CodecArgs>();
  auto* cmd =
      app.add_subcommand("encode", "Read JSON (one message per line) and write the message bytes");
  common(cmd, *args);
  cmd->callback([args, &exit_code] { exit_code = run_encode(*args); });
}

}  // namespace mlops::tool
