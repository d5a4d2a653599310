// Writes bytes to a file as gzip (what pprof expects of a profile).
#pragma once

#include <string>

namespace heapdrift {

// False with `error` set when the file cannot be written.
bool WriteGzipFile(const std::string& path, const std::string& bytes, std::string* error);

}  // namespace heapdrift
