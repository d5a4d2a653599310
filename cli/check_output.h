// What `heapdrift check` tells: human text (for stderr), JSON with every
// finding, and JUnit XML with one test case per process.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "leak_check.h"

namespace heapdrift::cli {

// `top` leak groups are shown per failing process.
void PrintCheckText(std::FILE* out, const CheckRun& run, const CheckOptions& options, size_t top);

nlohmann::json CheckJson(const CheckRun& run, const CheckOptions& options, int exit_code);

std::string CheckJunit(const CheckRun& run, const CheckOptions& options);

}  // namespace heapdrift::cli
