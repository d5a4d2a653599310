#include "gzip_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace heapdrift {

bool WriteGzipFile(const std::string& path, const std::string& bytes, std::string* error) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) {
    *error = "cannot write " + path + ": " + std::strerror(errno != 0 ? errno : EIO);
    return false;
  }
  bool written = bytes.empty() ||
                 gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                     static_cast<int>(bytes.size());
  bool closed = gzclose(file) == Z_OK;
  if (!written || !closed) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace heapdrift
