// What every command that reads a recording does the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift::cli {

// Reads `path`; on failure prints the one-line error and sets *exit_code.
// Warnings (truncated tail, no final snapshot) are printed, one line each.
bool LoadRecordingForCommand(const std::string& path, Recording* recording, int* exit_code);

// "heapdrift: warning: ..." for each.
void PrintWarnings(const std::vector<std::string>& warnings);

// The options of every command that names call sites: --wrapper (repeatable;
// skipped when `wrappers` is null) and --debug-dir.
void AddSymbolOptions(CLI::App* command, std::vector<std::string>* wrappers,
                      std::string* debug_paths);

// The agent's rate settings of every command that runs a program under it,
// bounded as the agent bounds HEAPDRIFT_SAMPLE_BYTES and _INTERVAL_MS:
// --sample-bytes (described by `sample_help`) and --interval-ms.
void AddSamplingOptions(CLI::App* command, uint64_t* sample_bytes, const std::string& sample_help,
                        uint64_t* interval_ms);

}  // namespace heapdrift::cli
