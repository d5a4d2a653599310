// Bytes as gzip (what pprof expects of a profile): to a file, or in memory
// (a profile served over HTTP).
#pragma once

#include <string>

namespace heapdrift {

// False with `error` set when the file cannot be written.
bool WriteGzipFile(const std::string& path, const std::string& bytes, std::string* error);

std::string GzipBytes(const std::string& bytes);

}  // namespace heapdrift
