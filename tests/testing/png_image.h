// A PNG read back into pixels (8-bit RGB or RGBA, not interlaced: what
// Chromium's screenshots are), so a test can look at what was drawn.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heapdrift::testing {

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0xRRGGBB, row by row
};

// False (with *error set) for anything else.
bool ReadPng(const std::string& path, Image* image, std::string* error);

}  // namespace heapdrift::testing
