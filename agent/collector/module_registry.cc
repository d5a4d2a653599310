#include "module_registry.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <time.h>

#include <cstring>

#include "frame_unwinder.h"
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
  // A host thread recording one object holds the flag for microseconds; the
  // collector may wait for it (never the other way round), but not forever:
  // a host thread stopped in a debugger leaves this scan to the next snapshot.
  for (int attempt = 0;; ++attempt) {
    bool expected = false;
    if (scanning_.compare_exchange_strong(expected, true, std::memory_order_acquire)) break;
    if (attempt == 100) return;
    timespec pause{0, 1'000'000};
    nanosleep(&pause, nullptr);
  }
  Scan();
  scanning_.store(false, std::memory_order_release);
}

void ModuleRegistry::RecordObjectAt(uintptr_t address) {
  if (segments_ == nullptr) return;
  dl_find_object found;
  if (_dl_find_object(reinterpret_cast<void*>(address), &found) != 0) return;
  // The object's program headers, read where it is mapped: its first
  // segment starts with the ELF header (file offset 0), whose program
  // headers follow within that segment on every linker's output.
  auto begin = reinterpret_cast<uintptr_t>(found.dlfo_map_start);
  auto end = reinterpret_cast<uintptr_t>(found.dlfo_map_end);
  const auto* header = reinterpret_cast<const ElfW(Ehdr)*>(begin);
  if (end - begin < sizeof(ElfW(Ehdr)) || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
      header->e_phentsize != sizeof(ElfW(Phdr)) || header->e_phoff > 4096 ||
      header->e_phoff + header->e_phnum * sizeof(ElfW(Phdr)) > 4096 ||
      header->e_phoff + header->e_phnum * sizeof(ElfW(Phdr)) > end - begin) {
    return;  // unusual layout: the next snapshot's scan records it
  }
  dl_phdr_info object{};
  object.dlpi_addr = found.dlfo_link_map->l_addr;
  object.dlpi_name = found.dlfo_link_map->l_name;
  object.dlpi_phdr = reinterpret_cast<const ElfW(Phdr)*>(begin + header->e_phoff);
  object.dlpi_phnum = header->e_phnum;
  bool expected = false;
  if (!scanning_.compare_exchange_strong(expected, true, std::memory_order_acquire)) return;
  RecordSegments(object);
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
    if (object->dlpi_subs != registry->last_subs_) ForgetFrameRules();
    registry->last_adds_ = object->dlpi_adds;
    registry->last_subs_ = object->dlpi_subs;
  }
  registry->RecordSegments(*object);
  return 0;
}

void ModuleRegistry::RecordSegments(const dl_phdr_info& object) {
  const char* path = object.dlpi_name;
  if (path == nullptr || path[0] == '\0') path = executable_path_;
  if (std::strncmp(path, "linux-vdso", 10) == 0) path = "[vdso]";
  BuildId build_id = FindBuildId(&object);
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = object.dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uint64_t start = object.dlpi_addr + ph.p_vaddr;
    if (Known(start, path)) continue;
    uint32_t count = count_.load(std::memory_order_relaxed);
    const char* stored_path = StorePath(path);
    if (count == kMaxSegments || stored_path == nullptr) return;
    Segment& segment = segments_[count];
    segment.start = start;
    segment.limit = start + ph.p_memsz;
    segment.file_offset = ph.p_offset;
    segment.load_bias = object.dlpi_addr;
    segment.path = stored_path;
    segment.build_id_size = build_id.size <= sizeof(segment.build_id) ? build_id.size : 0;
    std::memcpy(segment.build_id, build_id.bytes, segment.build_id_size);
    count_.store(count + 1, std::memory_order_release);
  }
}

}  // namespace heapdrift::agent
