// The loaded ELF objects, for offline symbolization: every PT_LOAD segment's
// address range, file offset, load bias, path and GNU build-id, read from the
// loader's own list (dl_iterate_phdr) and the in-memory note segments, never
// from disk. Collector thread only; never allocates.
#pragma once

#include <cstdint>

#include "proto_writer.h"

namespace heapdrift::agent {

class ModuleMap {
 public:
  bool Init(const char* executable_path);

  // Appends a Mapping message (field `field`) for each segment not emitted
  // before. Cheap when nothing was loaded or unloaded since the last call.
  void EmitNew(ProtoWriter& writer, uint32_t field);

  // Forget what was emitted (a new recording starts, e.g. after exec).
  void Reset() { seen_count_ = 0, last_adds_ = last_subs_ = ~uint64_t{0}; }

 private:
  static constexpr uint32_t kMaxSegments = 8192;
  bool MarkSeen(uint64_t key);

  const char* executable_path_ = "";
  uint64_t last_adds_ = ~uint64_t{0};
  uint64_t last_subs_ = ~uint64_t{0};
  uint64_t* seen_ = nullptr;
  uint32_t seen_count_ = 0;
};

}  // namespace heapdrift::agent
