#include "recording_queries.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "recording_tree.h"

namespace heapdrift::testing {

std::map<uint32_t, proto::CallSite> FinalSites(const heapdrift::Recording& recording) {
  std::map<uint32_t, proto::CallSite> sites;
  for (const auto& snapshot : recording.snapshots) {
    for (const auto& site : snapshot.sites()) sites[site.stack_id()] = site;
  }
  return sites;
}

std::vector<int64_t> LiveBytesSeries(const heapdrift::Recording& recording, uint32_t stack_id) {
  std::vector<int64_t> series;
  int64_t live = 0;
  for (const auto& snapshot : recording.snapshots) {
    for (const auto& site : snapshot.sites()) {
      if (site.stack_id() == stack_id) live = site.live_bytes();
    }
    series.push_back(live);
  }
  return series;
}

FunctionRange FindFunction(const std::string& elf_path, const std::string& demangled_name) {
  std::string command = "nm -C -S --defined-only '" + elf_path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  FunctionRange range;
  char line[4096];
  while (pipe && fgets(line, sizeof(line), pipe.get()) != nullptr) {
    unsigned long long start = 0, size = 0;
    char type = 0;
    int consumed = 0;
    if (sscanf(line, "%llx %llx %c %n", &start, &size, &type, &consumed) < 3) continue;
    std::string name = line + consumed;
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    if ((type == 'T' || type == 't') && name.rfind(demangled_name, 0) == 0 &&
        (name.size() == demangled_name.size() || name[demangled_name.size()] == '(')) {
      range = {start, start + size};
      break;
    }
  }
  return range;
}

std::vector<uint32_t> StacksThrough(const heapdrift::Recording& recording,
                                    const std::string& module_path, FunctionRange function) {
  std::vector<uint32_t> ids;
  std::string wanted = std::filesystem::weakly_canonical(module_path).string();
  for (const auto& [id, frames] : recording.stacks) {
    for (uint64_t frame : frames) {
      const proto::Mapping* mapping = recording.MappingFor(frame - 1);
      if (mapping == nullptr ||
          std::filesystem::weakly_canonical(mapping->path()).string() != wanted) {
        continue;
      }
      uint64_t address = frame - 1 - mapping->load_bias();
      if (address >= function.start && address < function.end) {
        ids.push_back(id);
        break;
      }
    }
  }
  return ids;
}

std::vector<std::string> FollowedRecordings(const std::string& recording) {
  heapdrift::Recording first;
  EXPECT_EQ(heapdrift::ReadRecording(recording, &first).status, heapdrift::ReadStatus::kOk) << recording;
  std::vector<std::string> followed;
  for (const heapdrift::TreeMember& member : heapdrift::FindLaterRecordings(recording, first.header)) {
    followed.push_back(member.path);
  }
  return followed;
}

heapdrift::Recording LoadRecording(const std::string& path) {
  heapdrift::Recording recording;
  heapdrift::ReadResult result = heapdrift::ReadRecording(path, &recording);
  EXPECT_EQ(result.status, heapdrift::ReadStatus::kOk) << result.message;
  EXPECT_TRUE(result.warnings.empty()) << result.warnings.front().text;
  return recording;
}

}  // namespace heapdrift::testing
