#include "system_support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

#include "call_site_resolver.h"
#include "recording_queries.h"
#include "symbolizer.h"

namespace heapdrift::testing {
namespace {

// Names a module defines, from its symbol tables (dynamic and, if present,
// static), demangled and without parameter lists.
std::set<std::string> DefinedNames(const std::string& module) {
  std::set<std::string> names;
  for (const char* table : {"-D", ""}) {
    std::string command = std::string("nm -C --defined-only ") + table + " '" + module +
                          "' 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    char line[8192];
    while (pipe && fgets(line, sizeof(line), pipe.get()) != nullptr) {
      std::string text(line);
      if (text.size() < 20) continue;
      std::string name = text.substr(19);
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      names.insert(name.substr(0, name.find('(')));
      size_t at = name.find('@');  // versioned: "malloc@@GLIBC_2.2.5"
      if (at != std::string::npos) names.insert(name.substr(0, at));
    }
  }
  return names;
}

}  // namespace

bool Installed(const std::string& program) {
  return RunProcess({"sh", "-c", "command -v '" + program + "'"}).exit_code == 0;
}

size_t ExpectSoundRecording(const std::string& path) {
  heapdrift::Recording recording = LoadRecording(path);
  EXPECT_FALSE(recording.snapshots.empty()) << path;
  if (recording.snapshots.empty()) return 0;
  EXPECT_TRUE(recording.snapshots.back().final()) << path;
  EXPECT_FALSE(FinalSites(recording).empty()) << path;
  const std::string& executable = recording.header.executable();
  bool has_build_id = false;
  for (const proto::Mapping& mapping : recording.mappings) {
    if (mapping.path() == executable) has_build_id |= !mapping.build_id().empty();
  }
  EXPECT_TRUE(has_build_id) << executable;

  symbolizer::Symbolizer symbolizer(heapdrift::SymbolizerModules(recording));
  std::map<std::string, std::set<std::string>> defined;
  size_t named_in_executable = 0, checked = 0;
  for (const auto& [id, addresses] : recording.stacks) {
    if (++checked > 400) break;  // plenty to catch a wrong name
    for (uint64_t address : addresses) {
      for (const symbolizer::Frame& frame : symbolizer.Symbolize(address)) {
        // The program's own (stripped) executable; libraries may have
        // separate debug files whose DWARF names static functions too.
        if (frame.function.empty() || frame.inlined || frame.module != executable) continue;
        auto [it, inserted] = defined.try_emplace(frame.module);
        if (inserted) it->second = DefinedNames(frame.module);
        if (it->second.empty()) continue;  // no symbol table: names come from DWARF
        std::string bare = frame.function.substr(0, frame.function.find('('));
        EXPECT_TRUE(it->second.count(bare) != 0 || it->second.count(frame.function) != 0)
            << frame.function << " is not a symbol of " << frame.module;
        named_in_executable += frame.module == executable;
      }
    }
  }
  return named_in_executable;
}

double SecondsIntoRecording(const heapdrift::Recording& recording, double unix_seconds) {
  return unix_seconds - static_cast<double>(recording.header.start_time_unix_ns()) / 1e9;
}

std::string FreeLoopbackPort() {
  constexpr int kFirst = 20000, kCount = 12000;  // below 32768, the ephemeral range's start
  static int calls = 0;
  int start = static_cast<int>((static_cast<unsigned>(getpid()) * 2654435761u) % kCount);
  for (int step = 0; step < kCount; ++step) {
    int port = kFirst + (start + 97 * calls + step) % kCount;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Without SO_REUSEADDR: a port with connections still in TIME_WAIT is
    // passed over too.
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (free) {
      ++calls;
      return std::to_string(port);
    }
  }
  ADD_FAILURE() << "no free TCP port on 127.0.0.1 in " << kFirst << "-" << kFirst + kCount;
  return "0";
}

double UnixSecondsNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace heapdrift::testing
