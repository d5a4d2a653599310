#include "module_map.h"

#include <elf.h>
#include <link.h>

#include <cstring>

#include "page_arena.h"

namespace heapdrift::agent {
namespace {

// Mapping field numbers, proto/heapdrift.proto.
enum : uint32_t { kStart = 1, kLimit = 2, kFileOffset = 3, kLoadBias = 4, kPath = 5, kBuildId = 6 };

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

struct Walk {
  ModuleMap* map;
  ProtoWriter* writer;
  uint32_t field;
  const char* executable_path;
  uint64_t* last_adds;
  uint64_t* last_subs;
  bool (*mark_seen)(ModuleMap*, uint64_t);
  bool counters_checked;
};

}  // namespace

bool ModuleMap::Init(const char* executable_path) {
  executable_path_ = executable_path;
  seen_ = static_cast<uint64_t*>(MapPages(sizeof(uint64_t) * kMaxSegments));
  return seen_ != nullptr;
}

bool ModuleMap::MarkSeen(uint64_t key) {
  for (uint32_t i = 0; i < seen_count_; ++i) {
    if (seen_[i] == key) return false;
  }
  if (seen_count_ < kMaxSegments) seen_[seen_count_++] = key;
  return true;
}

void ModuleMap::EmitNew(ProtoWriter& writer, uint32_t field) {
  Walk walk{this, &writer, field, executable_path_, &last_adds_, &last_subs_,
            [](ModuleMap* map, uint64_t key) { return map->MarkSeen(key); }, false};
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t info_size, void* data) -> int {
        auto* w = static_cast<Walk*>(data);
        if (!w->counters_checked &&
            info_size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(object->dlpi_subs)) {
          // Every object carries the loader's load/unload counters: unchanged
          // counters mean nothing new to emit.
          w->counters_checked = true;
          if (object->dlpi_adds == *w->last_adds && object->dlpi_subs == *w->last_subs) return 1;
          *w->last_adds = object->dlpi_adds;
          *w->last_subs = object->dlpi_subs;
        }
        const char* path = object->dlpi_name;
        if (path == nullptr || path[0] == '\0') path = w->executable_path;
        if (std::strncmp(path, "linux-vdso", 10) == 0) path = "[vdso]";
        BuildId build_id = FindBuildId(object);
        uint64_t path_hash = 0xcbf29ce484222325ULL;  // FNV-1a
        for (const char* c = path; *c != '\0'; ++c) path_hash = (path_hash ^ *c) * 0x100000001b3ULL;
        for (int i = 0; i < object->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = object->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uint64_t start = object->dlpi_addr + ph.p_vaddr;
          if (!w->mark_seen(w->map, path_hash ^ (start * 0x9e3779b97f4a7c15ULL))) continue;
          size_t token = w->writer->BeginMessage(w->field);
          w->writer->Varint(kStart, start);
          w->writer->Varint(kLimit, start + ph.p_memsz);
          w->writer->Varint(kFileOffset, ph.p_offset);
          w->writer->Varint(kLoadBias, object->dlpi_addr);
          w->writer->String(kPath, path);
          w->writer->Bytes(kBuildId, build_id.bytes, build_id.size);
          w->writer->EndMessage(token);
        }
        return 0;
      },
      &walk);
}

}  // namespace heapdrift::agent
