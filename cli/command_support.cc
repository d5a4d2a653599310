#include "command_support.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "agent/option_table.h"
#include "exit_codes.h"
#include "numbers.h"

namespace heapdrift::cli {
namespace {

// "--top" from "-n,--top": the name errors are reported under.
std::string LongName(const std::string& names) {
  size_t comma = names.rfind(',');
  return comma == std::string::npos ? names : names.substr(comma + 1);
}

template <typename T, typename Parse>
CLI::Option* AddParsedOption(CLI::App* command, const std::string& names, T* target,
                             const std::string& help, const char* type_name, Parse parse) {
  std::string name = LongName(names);
  return command
      ->add_option_function<std::string>(
          names,
          [target, name, parse](const std::string& text) {
            auto parsed = parse(text);
            if (!parsed.value) throw CLI::ValidationError(name, parsed.error);
            *target = *parsed.value;
          },
          help)
      ->type_name(type_name);
}

}  // namespace

CLI::Option* AddSizeOption(CLI::App* command, const std::string& names, uint64_t* target,
                           const std::string& help, uint64_t min, uint64_t max) {
  return AddParsedOption(command, names, target, help, "SIZE",
                         [min, max](const std::string& text) { return ParseSize(text, min, max); });
}

CLI::Option* AddCountOption(CLI::App* command, const std::string& names, uint64_t* target,
                            const std::string& help, uint64_t min, uint64_t max) {
  return AddParsedOption(command, names, target, help, "N",
                         [min, max](const std::string& text) { return ParseCount(text, min, max); });
}

CLI::Option* AddSecondsOption(CLI::App* command, const std::string& names, double* target,
                              const std::string& help, double min, double max) {
  return AddParsedOption(
      command, names, target, help, "SECONDS",
      [min, max](const std::string& text) { return ParseSeconds(text, min, max); });
}

CLI::Option* AddDurationOption(CLI::App* command, const std::string& names,
                               std::chrono::milliseconds* target, const std::string& help,
                               std::chrono::milliseconds min, std::chrono::milliseconds max) {
  return AddParsedOption(
      command, names, target, help, "DURATION",
      [min, max](const std::string& text) { return ParseDuration(text, min, max); });
}

void AddSymbolOptions(CLI::App* command, std::vector<std::string>* wrappers,
                      std::string* debug_paths) {
  if (wrappers != nullptr) {
    command->add_option("--wrapper", *wrappers,
                        "A function of yours that wraps malloc (skipped when naming call sites)");
  }
  command->add_option("--debug-dir", *debug_paths,
                      "Where to look for separate debug files (default :.debug:/usr/lib/debug)");
}

void AddSamplingOptions(CLI::App* command, uint64_t* sample_bytes, const std::string& sample_help,
                        uint64_t* interval_ms) {
  AddSizeOption(command, "--sample-bytes", sample_bytes, sample_help, agent::option::sample_bytes.min,
                agent::option::sample_bytes.max);
  AddCountOption(command, "--interval-ms", interval_ms, "Milliseconds between snapshots",
                 agent::option::interval_ms.min, agent::option::interval_ms.max);
}

void AddFollowOption(CLI::App* command, std::string* mode) {
  command
      ->add_option("--follow", *mode,
                   "Which processes it starts record too: exec (default: programs it executes, "
                   "each to OUTPUT.<pid>), all (also children forked without exec, from the "
                   "fork on), none")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(agent::kFollowModeNames),
                                                     std::end(agent::kFollowModeNames))));
}

bool CanWriteOptionalOutput(const std::string& path, std::string* error) {
  return path.empty() || CanWriteOutput(path, false, error);
}

bool WriteOutputFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "heapdrift: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

bool CanWriteOutput(const std::string& path, bool regular_file_only, std::string* error) {
  struct stat status {};
  if (stat(path.c_str(), &status) == 0) {
    if (S_ISDIR(status.st_mode) || (regular_file_only && !S_ISREG(status.st_mode))) {
      *error = "cannot write " + path + ": " +
               (S_ISDIR(status.st_mode) ? "it is a directory" : "not a regular file");
      return false;
    }
    if (access(path.c_str(), W_OK) != 0) {
      *error = "cannot write " + path + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  if (errno != ENOENT) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  if (access(directory.c_str(), W_OK | X_OK) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) {
    std::fprintf(stderr, "heapdrift: warning: %s\n", warning.c_str());
  }
}

bool LoadRecordingForCommand(const std::string& path, Recording* recording, int* exit_code) {
  ReadResult result = ReadRecording(path, recording);
  if (result.status != ReadStatus::kOk) {
    std::fprintf(stderr, "heapdrift: %s\n", result.message.c_str());
    *exit_code = ExitCodeFor(result.status);
    return false;
  }
  for (const ReadWarning& warning : result.warnings) {
    std::fprintf(stderr, "heapdrift: warning: %s\n", warning.text.c_str());
  }
  return true;
}

}  // namespace heapdrift::cli
