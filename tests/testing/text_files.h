// Reading what a test's programs wrote, and counting what they said.
#pragma once

#include <cstddef>
#include <string>

namespace heapdrift::testing {

// The whole file, bytes as they are; empty if it cannot be read.
std::string ReadFile(const std::string& path);

// How many times `needle` occurs in `text`.
size_t Occurrences(const std::string& text, const std::string& needle);

}  // namespace heapdrift::testing
