#include "command_support.h"

#include <cstdio>

namespace heapdrift::cli {

void AddSymbolOptions(CLI::App* command, std::vector<std::string>* wrappers,
                      std::string* debug_paths) {
  if (wrappers != nullptr) {
    command->add_option("--wrapper", *wrappers,
                        "A function of yours that wraps malloc (skipped when naming call sites)");
  }
  command->add_option("--debug-dir", *debug_paths,
                      "Where to look for separate debug files (default :.debug:/usr/lib/debug)");
}

void AddSamplingOptions(CLI::App* command, uint64_t* sample_bytes, const std::string& sample_help,
                        uint64_t* interval_ms) {
  command->add_option("--sample-bytes", *sample_bytes, sample_help)
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  command->add_option("--interval-ms", *interval_ms, "Milliseconds between snapshots")
      ->check(CLI::Range(10, 3600000));
}

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
