#include "agent_locator.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace heapdrift::cli {

std::optional<std::string> LocateAgent(std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  if (const char* configured = std::getenv("HEAPDRIFT_AGENT"); configured != nullptr) {
    fs::path path = fs::absolute(configured, ignored);
    if (access(path.c_str(), R_OK) == 0) return path.string();
    *error = "HEAPDRIFT_AGENT=" + std::string(configured) + " is not a readable file";
    return std::nullopt;
  }
  fs::path cli_dir = fs::read_symlink("/proc/self/exe", ignored).parent_path();
  for (const char* relative : {"../agent/libheapdrift.so",
                               "../" HEAPDRIFT_INSTALL_LIBDIR "/libheapdrift.so",
                               "../lib/libheapdrift.so", "libheapdrift.so"}) {
    fs::path candidate = fs::weakly_canonical(cli_dir / relative, ignored);
    if (access(candidate.c_str(), R_OK) == 0) return candidate.string();
  }
  *error = "cannot find libheapdrift.so next to " + cli_dir.string() + "; set HEAPDRIFT_AGENT";
  return std::nullopt;
}

}  // namespace heapdrift::cli
