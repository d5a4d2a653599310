// The loaded ELF objects, for offline symbolization: every PT_LOAD segment's
// address range, file offset, load bias, path and GNU build-id, read from the
// loader's own list (dl_iterate_phdr) and the in-memory note segments, never
// from disk.
//
// Segments are recorded when a new stack is interned with a frame outside
// every known segment (so a library that is dlopen'ed, used and dlclose'd
// between two snapshots is still named), and at every snapshot. Recording
// is append-only and never blocks: one thread scans at a time, and a thread
// that finds a scan in progress leaves a request that the scanner honours
// before it finishes. Bounded: kMaxSegments segments, kPathBytes of paths.
#pragma once

#include <link.h>

#include <atomic>
#include <cstdint>

namespace heapdrift::agent {

struct Segment {
  uint64_t start;
  uint64_t limit;
  uint64_t file_offset;
  uint64_t load_bias;
  const char* path;
  uint32_t build_id_size;
  uint8_t build_id[32];
};

class ModuleRegistry {
 public:
  static constexpr uint32_t kMaxSegments = 8192;
  static constexpr uint32_t kPathBytes = 1 << 20;

  bool Init(const char* executable_path);

  // Records the segments of objects loaded since the last scan.
  void Refresh();

  // Whether `address` lies in a recorded segment. Lock-free.
  bool Covers(uintptr_t address) const;

  // Collector only: visits the segments recorded since its last call.
  template <typename Visit>
  void TakeNew(Visit&& visit) {
    uint32_t count = count_.load(std::memory_order_acquire);
    for (; emitted_ < count; ++emitted_) visit(segments_[emitted_]);
  }

 private:
  void Scan();
  bool Known(uint64_t start, const char* path) const;
  const char* StorePath(const char* path);
  static int OnObject(dl_phdr_info* object, size_t size, void* self);

  const char* executable_path_ = "";
  Segment* segments_ = nullptr;
  std::atomic<uint32_t> count_{0};
  uint32_t emitted_ = 0;
  char* paths_ = nullptr;
  uint32_t paths_used_ = 0;
  std::atomic<bool> scanning_{false};
  std::atomic<bool> rescan_requested_{false};
  uint64_t last_adds_ = ~uint64_t{0};
  uint64_t last_subs_ = ~uint64_t{0};
  bool counters_checked_ = false;
};

}  // namespace heapdrift::agent
