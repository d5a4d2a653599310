// What `heapdrift check` tells: human text (for stderr), JSON with every
// finding, and JUnit XML with one test case per process.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "leak_check.h"

namespace heapdrift {

// `top` leak groups are shown per failing process.
void PrintCheckText(std::FILE* out, const CheckRun& run, const CheckOptions& options, size_t top);

// LeakSanitizer's print_suppressions: each suppression that matched, with
// what it hid over the whole run, then a warning for each of the user's that
// matched nothing (a typo, or a bug fixed since).
void PrintSuppressionUse(std::FILE* out, const CheckRun& run, const CheckOptions& options);

nlohmann::json CheckJson(const CheckRun& run, const CheckOptions& options, int exit_code);

std::string CheckJunit(const CheckRun& run, const CheckOptions& options);

}  // namespace heapdrift
