// Questions tests ask of a recording: the state of every call site at the
// end or at each snapshot, and which stacks pass through a given function.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift::testing {

// Site state after the last snapshot (absolute values carried forward).
std::map<uint32_t, proto::CallSite> FinalSites(const heapdrift::Recording& recording);

// Live bytes of `stack_id` after each snapshot (0 before it first appears).
std::vector<int64_t> LiveBytesSeries(const heapdrift::Recording& recording, uint32_t stack_id);

// [start, end) of a function in an ELF file, from its symbol table (nm).
struct FunctionRange {
  uint64_t start = 0, end = 0;
};
FunctionRange FindFunction(const std::string& elf_path, const std::string& demangled_name);

// Stacks with a frame inside `function` of the module at `module_path`.
std::vector<uint32_t> StacksThrough(const heapdrift::Recording& recording,
                                    const std::string& module_path, FunctionRange function);

// The recordings of the processes followed from the one writing `recording`
// (forked or exec'd children), as `report` finds them, in order of start.
std::vector<std::string> FollowedRecordings(const std::string& recording);

// Reads a recording and fails the current test if it cannot.
heapdrift::Recording LoadRecording(const std::string& path);

}  // namespace heapdrift::testing
