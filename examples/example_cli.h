#pragma once
// The command line every example shares: `--help` prints the usage line and what the example
// does (exit 0); an unknown flag, or more arguments than it takes, prints the usage line to
// stderr (exit 2), as command-line tools do.

#include <cstddef>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlops::examples {

/// What an example was given on its command line.
struct CommandLine {
  /// The known flags given, as written ("--threads", "--deadline=5").
  std::vector<std::string> flags;
  /// Everything that is not a flag, in order.
  std::vector<std::string> positional;
  /// Set when the example should exit at once with this status: 0 after --help, 2 on misuse.
  std::optional<int> exit_code;

  /// The value of `--name=value` ("" for a bare `--name`); nullopt when not given.
  [[nodiscard]] std::optional<std::string> flag(std::string_view name) const {
    for (const auto& given : flags) {
      if (given == name) return std::string();
      if (given.size() > name.size() && given.starts_with(name) && given[name.size()] == '=') {
        return given.substr(name.size() + 1);
      }
    }
    return std::nullopt;
  }
};

/// Prints `usage` and `problem` to stderr. @return 2, the status for a misused command line.
inline int usage_error(std::string_view usage, std::string_view problem) {
  std::cerr << problem << '\n' << usage << "\n(--help says more)\n";
  return 2;
}

/// Reads the command line. `usage` is the usage line ("usage: example_producer [URI]"),
/// `about` what --help prints after it; `known` are the flags the example takes ("--threads";
/// one ending in '=' takes a value: "--deadline="); at most `max_positional` other arguments.
inline CommandLine parse_command_line(int argc, char** argv, std::string_view usage,
                                      std::string_view about,
                                      std::initializer_list<std::string_view> known = {},
                                      std::size_t max_positional = 0) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--help" || arg == "-h") {
      std::cout << usage << '\n' << about;
      line.exit_code = 0;
      return line;
    }
    if (arg.size() < 2 || arg.front() != '-') {
      line.positional.emplace_back(arg);
      continue;
    }
    bool found = false;
    for (const auto flag : known) {
      const bool takes_value = flag.ends_with('=');
      found = takes_value ? arg.starts_with(flag) && arg.size() > flag.size() : arg == flag;
      if (found) break;
    }
    if (!found) {
      line.exit_code = usage_error(usage, "unknown option: " + std::string(arg));
      return line;
    }
    line.flags.emplace_back(arg);
  }
  if (line.positional.size() > max_positional) {
    line.exit_code = usage_error(usage, "unexpected argument: " + line.positional[max_positional]);
  }
  return line;
}

}  // namespace mlops::examples
