// Writes the original library's JSON messages (and near misses) to start the legacy JSON
// fuzzer from: argv[1] is the corpus directory.
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::vector<std::string> seeds = {
      R"({"msg_type": "START", "topic": ["a", "b"], "creator": "ETL", "creator_type": "ETL", )"
      R"("stage": "TRAIN", "next_task": "Train", "usr_msg": "Hello World", "retries": 2, )"
      R"("output": "/data/out.pt", "recipient": null, "add_data": {"lr": 0.001, )"
      R"("nested": {"deep": [1, null, true, -2.5e-7, "caf\u00e9 \ud83d\ude00"]}}})",
      R"({"msg_type": "OTHER", "topic": null, "creator": null, "creator_type": "unknown", )"
      R"("stage": null, "next_task": [], "usr_msg": null, "retries": 0, "output": [], )"
      R"("recipient": [], "add_data": [[], {}, "x"]})",
      R"({"no_message": null})",
      R"({"retries": 2147483647, "usr_msg": "\"\\\/\b\f\n\r\t\u0001"})",
      R"({"add_data": {"additional_data": 18446744073709551615}})",
  };
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(std::string(argv[1]) + "/seed-" + std::to_string(i) + ".json",
                      std::ios::binary);
    out << seeds[i];
    if (!out) return 1;
  }
  return 0;
}
