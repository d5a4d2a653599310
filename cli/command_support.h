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

}  // namespace heapdrift::cli
