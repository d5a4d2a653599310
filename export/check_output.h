// What `heapdrift check` tells: human text (for stderr), JSON with every
// finding, and JUnit XML with one test case per process.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "leak_check.h"

namespace heapdrift {

// "FAILED: 1 of 2 processes leaked or grew; the command exited with 3".
std::string CheckVerdict(const CheckRun& run, const CheckOptions& options);
// "1.2 KiB definitely leaked in 3 objects; ...", or why leaks were not checked.
std::string ProcessCheckSummary(const ProcessCheck& process);

// "leaked", "indirectly leaked", "still reachable".
const char* LeakKindText(LeakKind kind);

// `top` leak groups are shown per failing process.
void PrintCheckText(std::FILE* out, const CheckRun& run, const CheckOptions& options, size_t top);

// LeakSanitizer's print_suppressions: each suppression that matched, with
// what it hid over the whole run, then a warning for each of the user's that
// matched nothing (a typo, or a bug fixed since).
void PrintSuppressionUse(std::FILE* out, const CheckRun& run, const CheckOptions& options);

nlohmann::json CheckJson(const CheckRun& run, const CheckOptions& options, int exit_code);

std::string CheckJunit(const CheckRun& run, const CheckOptions& options);

}  // namespace heapdrift
