#include "module_registry.h"

#include <elf.h>
#include <link.h>

#include <cstring>

#include "page_arena.h"

namespace heapdrift::agent {
namespace {

struct BuildId {
  const uint8_t* bytes = nullptr;
  uint32_t size = 0;
};

BuildId FindBuildId(const dl_phdr_info* object) {
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = object->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* note = reinterpret_cast<const uint8_t*>(object->dlpi_addr + ph.p_vaddr);
    const uint8_t* end = note + ph.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      auto* header = reinterpret_cast<const ElfW(Nhdr)*>(note);
      const uint8_t* name = note + sizeof(ElfW(Nhdr));
      const uint8_t* desc = name + ((header->n_namesz + 3) & ~3u);
      const uint8_t* next = desc + ((header->n_descsz + 3) & ~3u);
      if (next > end) break;
      if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        return BuildId{desc, header->n_descsz};
      }
      note = next;
    }
  }
  return {};
}

}  // namespace

bool ModuleRegistry::Init(const char* executable_path) {
  executable_path_ = executable_path;
  segments_ = static_cast<Segment*>(MapPages(sizeof(Segment) * kMaxSegments));
  paths_ = static_cast<char*>(MapPages(kPathBytes));
  return segments_ != nullptr && paths_ != nullptr;
}

bool ModuleRegistry::Covers(uintptr_t address) const {
  uint32_t count = count_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count; ++i) {
    if (address >= segments_[i].start && address < segments_[i].limit) return true;
  }
  return false;
}

void ModuleRegistry::Refresh() {
  if (segments_ == nullptr) return;
  bool expected = false;
  if (!scanning_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    rescan_requested_.store(true, std::memory_order_release);
    return;
  }
  do {
    rescan_requested_.store(false, std::memory_order_relaxed);
    Scan();
  } while (rescan_requested_.load(std::memory_order_acquire));
  scanning_.store(false, std::memory_order_release);
}

void ModuleRegistry::Scan() {
  counters_checked_ = false;
  dl_iterate_phdr(OnObject, this);
}

bool ModuleRegistry::Known(uint64_t start, const char* path) const {
  uint32_t count = count_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i) {
    if (segments_[i].start == start && std::strcmp(segments_[i].path, path) == 0) return true;
  }
  return false;
}

const char* ModuleRegistry::StorePath(const char* path) {
  size_t length = std::strlen(path) + 1;
  for (uint32_t i = 0, count = count_.load(std::memory_order_relaxed); i < count; ++i) {
    if (std::strcmp(segments_[i].path, path) == 0) return segments_[i].path;
  }
  if (paths_used_ + length > kPathBytes) return nullptr;
  char* stored = paths_ + paths_used_;
  std::memcpy(stored, path, length);
  paths_used_ += static_cast<uint32_t>(length);
  return stored;
}

// Runs inside dl_iterate_phdr, with the loader's lock held: touches only
// our own mapped memory, never allocates.
int ModuleRegistry::OnObject(dl_phdr_info* object, size_t size, void* self) {
  auto* registry = static_cast<ModuleRegistry*>(self);
  if (!registry->counters_checked_ &&
      size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(object->dlpi_subs)) {
    // Every object carries the loader's load/unload counters: unchanged
    // counters mean nothing new to record.
    registry->counters_checked_ = true;
    if (object->dlpi_adds == registry->last_adds_ && object->dlpi_subs == registry->last_subs_) {
      return 1;
    }
    registry->last_adds_ = object->dlpi_adds;
    registry->last_subs_ = object->dlpi_subs;
  }
  const char* path = object->dlpi_name;
  if (path == nullptr || path[0] == '\0') path = registry->executable_path_;
  if (std::strncmp(path, "linux-vdso", 10) == 0) path = "[vdso]";
  BuildId build_id = FindBuildId(object);
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = object->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uint64_t start = object->dlpi_addr + ph.p_vaddr;
    if (registry->Known(start, path)) continue;
    uint32_t count = registry->count_.load(std::memory_order_relaxed);
    const char* stored_path = registry->StorePath(path);
    if (count == kMaxSegments || stored_path == nullptr) return 1;
    Segment& segment = registry->segments_[count];
    segment.start = start;
    segment.limit = start + ph.p_memsz;
    segment.file_offset = ph.p_offset;
    segment.load_bias = object->dlpi_addr;
    segment.path = stored_path;
    segment.build_id_size = build_id.size <= sizeof(segment.build_id) ? build_id.size : 0;
    std::memcpy(segment.build_id, build_id.bytes, segment.build_id_size);
    registry->count_.store(count + 1, std::memory_order_release);
  }
  return 0;
}

}  // namespace heapdrift::agent
