#include "png_image.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace heapdrift::testing {
namespace {

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
}

// The PNG specification's Paeth predictor (section 9.4).
int Paeth(int a, int b, int c) {
  int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

}  // namespace

bool ReadPng(const std::string& path, Image* image, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string bytes = buffer.str();
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    *error = path + ": not a PNG";
    return false;
  }
  std::string compressed;
  int colour_type = -1;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    uint32_t length = BigEndian32(bytes, at);
    if (at + 12 + length > bytes.size()) break;
    std::string type = bytes.substr(at + 4, 4);
    if (type == "IHDR") {
      image->width = BigEndian32(bytes, at + 8);
      image->height = BigEndian32(bytes, at + 12);
      int depth = static_cast<unsigned char>(bytes[at + 16]);
      colour_type = static_cast<unsigned char>(bytes[at + 17]);
      if (depth != 8 || (colour_type != 2 && colour_type != 6) || bytes[at + 20] != 0) {
        *error = path + ": only 8-bit RGB(A), not interlaced, is read here";
        return false;
      }
    } else if (type == "IDAT") {
      compressed += bytes.substr(at + 8, length);
    }
    at += 12 + length;
  }
  size_t channels = colour_type == 6 ? 4 : 3;
  size_t stride = image->width * channels;
  std::string raw((stride + 1) * image->height, '\0');
  uLongf raw_size = raw.size();
  if (colour_type < 0 || uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                                    reinterpret_cast<const Bytef*>(compressed.data()),
                                    compressed.size()) != Z_OK ||
      raw_size != raw.size()) {
    *error = path + ": image data does not inflate to its size";
    return false;
  }
  std::vector<uint8_t> previous(stride, 0), row(stride);
  image->pixels.clear();
  for (uint32_t y = 0; y < image->height; ++y) {
    const char* line = raw.data() + y * (stride + 1);
    int filter = static_cast<unsigned char>(line[0]);
    for (size_t x = 0; x < stride; ++x) {
      int value = static_cast<unsigned char>(line[1 + x]);
      int a = x >= channels ? row[x - channels] : 0, b = previous[x];
      int c = x >= channels ? previous[x - channels] : 0;
      switch (filter) {
        case 1: value += a; break;
        case 2: value += b; break;
        case 3: value += (a + b) / 2; break;
        case 4: value += Paeth(a, b, c); break;
        default: break;
      }
      row[x] = static_cast<uint8_t>(value);
    }
    for (uint32_t x = 0; x < image->width; ++x) {
      const uint8_t* pixel = &row[x * channels];
      image->pixels.push_back(uint32_t{pixel[0]} << 16 | uint32_t{pixel[1]} << 8 | pixel[2]);
    }
    previous = row;
  }
  return true;
}

}  // namespace heapdrift::testing
