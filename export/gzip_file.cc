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

std::string GzipBytes(const std::string& bytes) {
  z_stream stream{};
  // 15 + 16: a gzip wrapper, not zlib's.
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, bytes.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace heapdrift
