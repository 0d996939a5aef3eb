// mlops: see, send, replay and measure any queue the library reaches (README, "Command line").

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli.h"
#include "commands.h"
#include "library_log.h"

int main(int argc, char** argv) {
  using namespace mlops::tool;
  install_stop_handlers();
  CLI::App app{
      "mlops: send, tail, list, inspect and measure mlops queues (mmap:///DIR, kafka://HOST:PORT, "
      "...)",
      "mlops"};
  app.require_subcommand(1, 1);
  app.set_help_all_flag("--help-all", "Help for every command");
  // The library's own log lines (a broker's connection errors, repairs) only on request: by
  // default a failure is the one line the command prints.
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose,
               "Also print the library's log (backend warnings and errors)");
  app.fallthrough();
  app.parse_complete_callback([&verbose] { install_library_log(verbose); });
  int exit_code = kExitOk;
  add_send_command(app, exit_code);
  add_tail_command(app, exit_code);
  add_topics_command(app, exit_code);
  add_groups_command(app, exit_code);
  add_inspect_command(app, exit_code);
  add_decode_command(app, exit_code);
  add_encode_command(app, exit_code);
  add_perf_command(app, exit_code);
  bool known = argc < 2 || argv[1][0] == '-';
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
    known = known || sub->check_name(argv[1]);
  if (!known) {
    std::cerr
        << "mlops: unknown command '" << argv[1]
        << "' (send, tail, topics, groups, inspect, decode, encode, perf; see mlops --help)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line: what was wrong, and where the help is.
    std::string where = "mlops";
    for (const auto* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::cerr << where << ": " << e.what() << " (see " << where << " --help)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "mlops: " << e.what() << '\n';
    return kExitFailure;
  }
  if (const auto error = stdout_write_error()) {
    std::cerr << "mlops: " << *error << '\n';
    return kExitFailure;
  }
  return exit_code;
}
