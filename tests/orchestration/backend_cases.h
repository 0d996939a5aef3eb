#pragma once
// The backends the semantics suite runs against. A new backend adds one case here: a
// name and a function giving a fresh, isolated URI (a broker, directory or namespace of
// its own) for each test.

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace mlops::orchestration::testing {

struct BackendCase {
  std::string name;
  std::function<std::string(const std::string& unique)> make_uri;
  /// Whether several consumers of one group may be active at once (competing consumers);
  /// the mmap queue allows one active consumer per group.
  bool shared_groups = true;
};

/// A directory for this test process's mmap queues, removed when the process ends.
inline const std::filesystem::path& mmap_test_root() {
  struct Root {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("mlops-api-" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Root root;
  return root.path;
}

inline std::vector<BackendCase> backend_cases() {
  return {
      {"inproc", [](const std::string& unique) { return "inproc://" + unique; }},
      {"mmap",
       [](const std::string& unique) {
         return "mmap://" + (mmap_test_root() / unique).string() + "?segment_bytes=65536&populate=false";
       },
       /*shared_groups=*/false},
  };
}

}  // namespace mlops::orchestration::testing
