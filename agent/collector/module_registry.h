// The loaded ELF objects, for offline symbolization: every PT_LOAD segment's
// address range, file offset, load bias, path and GNU build-id, read from the
// loader's own list (dl_iterate_phdr) and the in-memory note segments, never
// from disk.
//
// Segments are recorded at every snapshot (the collector walks the loader's
// list), and when a new stack is interned with a frame outside every known
// segment (so a library that is dlopen'ed, used and dlclose'd between two
// snapshots is still named): then the host thread records just the object
// holding that frame, found with _dl_find_object, which is lock-free. No
// host thread ever calls dl_iterate_phdr, which waits for the loader's lock.
// Recording is append-only and never blocks a host thread: one thread
// records at a time, and a host thread that finds the collector scanning
// leaves it to that scan. Bounded: kMaxSegments segments,
// kPathBytes of paths. When the loader says objects were unloaded, the
// unwinder's cached rules are forgotten (their addresses may be reused).
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

  // Collector only: records the segments of objects loaded since the last scan.
  void Refresh();

  // Host threads: records the loaded object that contains `address`.
  void RecordObjectAt(uintptr_t address);

  // Whether `address` lies in a recorded segment. Lock-free.
  bool Covers(uintptr_t address) const;

  // Collector only: a new recording needs every segment again.
  void ResendAll() { emitted_ = 0; }

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
  void RecordSegments(const dl_phdr_info& object);

  const char* executable_path_ = "";
  Segment* segments_ = nullptr;
  std::atomic<uint32_t> count_{0};
  uint32_t emitted_ = 0;
  char* paths_ = nullptr;
  uint32_t paths_used_ = 0;
  std::atomic<bool> scanning_{false};
  uint64_t last_adds_ = ~uint64_t{0};  // never seen: the first refresh records everything
  // Unloads seen: none. The first refresh forgets cached frame rules only if
  // an object was unloaded before it (clearing the untouched rule cache
  // would fault in all of its pages in every program a script runs).
  uint64_t last_subs_ = 0;
  bool counters_checked_ = false;
};

}  // namespace heapdrift::agent
