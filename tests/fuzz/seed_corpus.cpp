// Writes valid messages into the directory named by argv[1]: the fuzzer's starting corpus.
#include <fstream>
#include <iostream>
#include <string>

#include "support/sample_messages.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_corpus DIR\n";
    return 2;
  }
  const mlops::messaging::MLOpsMessage seeds[] = {mlops::testing::make_seed_message(),
                                                  mlops::testing::make_full_message(),
                                                  mlops::messaging::MessageBuilder().build()};
  int index = 0;
  for (const auto& msg : seeds) {
    std::ofstream out(std::string(argv[1]) + "/seed-" + std::to_string(index++) + ".mlop",
                      std::ios::binary);
    out.write(reinterpret_cast<const char*>(msg.bytes().data()),
              static_cast<std::streamsize>(msg.bytes().size()));
    if (!out) return 1;
  }
  return 0;
}
