#include "command_support.h"

#include <cstdio>

namespace heapdrift::cli {

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) {
    std::fprintf(stderr, "heapdrift: warning: %s\n", warning.c_str());
  }
}

bool LoadRecordingForCommand(const std::string& path, Recording* recording, int* exit_code) {
  ReadResult result = ReadRecording(path, recording);
  if (result.status != ReadStatus::kOk) {
    std::fprintf(stderr, "heapdrift: %s\n", result.message.c_str());
    *exit_code = ExitCodeFor(result.status);
    return false;
  }
  PrintWarnings(result.warnings);
  return true;
}

}  // namespace heapdrift::cli
