#pragma once
// Each `mlops` command adds itself to the app: one file per command. A command's callback
// stores its exit status in `exit_code`.

namespace CLI {
class App;
}  // namespace CLI

namespace mlops::tool {

void add_send_command(CLI::App& app, int& exit_code);
void add_tail_command(CLI::App& app, int& exit_code);
void add_topics_command(CLI::App& app, int& exit_code);
void add_groups_command(CLI::App& app, int& exit_code);
void add_inspect_command(CLI::App& app, int& exit_code);
void add_decode_command(CLI::App& app, int& exit_code);
void add_encode_command(CLI::App& app, int& exit_code);
void add_perf_command(CLI::App& app, int& exit_code);

}  // namespace mlops::tool
