// The version the library reports is the project's, and the schema version the schema file's.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <fstream>
#include <regex>
#include <string>

namespace {

TEST(Version, IsTheProjectVersionCompiledIn) {
  EXPECT_EQ(mlops::version(), MLOPS_TEST_PROJECT_VERSION);
  const std::string headers = std::to_string(MLOPS_VERSION_MAJOR) + "." +
                              std::to_string(MLOPS_VERSION_MINOR) + "." +
                              std::to_string(MLOPS_VERSION_PATCH);
  EXPECT_EQ(mlops::version(), headers);
}

TEST(Version, SchemaVersionIsTheSchemaFilesLine) {
  std::ifstream schema(MLOPS_TEST_SCHEMA_FILE);
  ASSERT_TRUE(schema) << MLOPS_TEST_SCHEMA_FILE;
  const std::regex line(R"(^// Schema version: ([0-9]+)$)");
  std::string text;
  int found = -1;
  while (std::getline(schema, text)) {
    if (std::smatch match; std::regex_match(text, match, line)) found = std::stoi(match[1]);
  }
  EXPECT_EQ(mlops::schema_version(), found);
  EXPECT_GE(mlops::schema_version(), 2);  // the message key was the first field appended
}

}  // namespace
