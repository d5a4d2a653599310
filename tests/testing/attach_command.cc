#include "attach_command.h"

#include <gtest/gtest.h>

#include "paths.h"
#include "text_files.h"

namespace heapdrift::testing {

ProcessResult Attach(std::vector<std::string> arguments, int timeout_sec) {
  arguments.insert(arguments.begin(), {kCliPath, "attach"});
  return RunProcess(arguments, {}, timeout_sec);
}

std::string Example(const char* name) { return std::string(kExamplesDir) + "/" + name; }

void ExpectOneLine(const ProcessResult& result, int code, const std::string& words) {
  EXPECT_EQ(result.exit_code, code) << result.err;
  EXPECT_EQ(Occurrences(result.err, "\n"), 1u) << result.err;
  EXPECT_NE(result.err.find(words), std::string::npos) << result.err;
}

}  // namespace heapdrift::testing
