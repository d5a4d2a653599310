// What every command that reads a recording does the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "agent/option_table.h"
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

// --follow MODE, taking HEAPDRIFT_FOLLOW's values.
void AddFollowOption(CLI::App* command, std::string* mode);

// Whether `path` can be written as an output: an existing file we may write
// (a regular one when `regular_file_only`), or a new name in a directory we
// may write. Creates and truncates nothing: a command that fails before it
// writes leaves no empty file behind. On failure sets a one-line *error.
bool CanWriteOutput(const std::string& path, bool regular_file_only, std::string* error);

// CanWriteOutput for an output the user may leave out ("" can always be written).
bool CanWriteOptionalOutput(const std::string& path, std::string* error);
// Writes `text` to `path` (replacing it); on failure says why on stderr.
bool WriteOutputFile(const std::string& path, const std::string& text);

// The most call sites any --top shows.
inline constexpr uint64_t kMaxTop = 1'000'000;
// The largest byte limit a check takes (1024 TiB: more is no limit at all).
inline constexpr uint64_t kMaxSizeLimit = uint64_t{1} << 50;
// Seconds since a program started that --from, --to and --at accept.
inline constexpr double kMaxSeconds = 1e9;

// Numeric options, all parsed by numbers.h: one clear line and exit code 2
// for a bad value, the same words in every command. `names` as CLI11 takes
// them ("-n,--top").
CLI::Option* AddSizeOption(CLI::App* command, const std::string& names, uint64_t* target,
                           const std::string& help, uint64_t min, uint64_t max);
CLI::Option* AddCountOption(CLI::App* command, const std::string& names, uint64_t* target,
                            const std::string& help, uint64_t min, uint64_t max);
CLI::Option* AddSecondsOption(CLI::App* command, const std::string& names, double* target,
                              const std::string& help, double min, double max);
CLI::Option* AddDurationOption(CLI::App* command, const std::string& names,
                               std::chrono::milliseconds* target, const std::string& help,
                               std::chrono::milliseconds min, std::chrono::milliseconds max);

}  // namespace heapdrift::cli
