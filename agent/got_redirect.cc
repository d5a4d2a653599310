#include "got_redirect.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "real_alloc.h"
#include "thread_state.h"

namespace heapdrift::agent {

namespace {

// The agent's own entry points: with -Bsymbolic these names bind to the
// definitions in interpose.cc, not to the program's.
struct Entry {
  const char* name;
  bool releases;  // frees (or may free) a block: redirected first, restored last
  uintptr_t hook;
  uintptr_t original;
};

constexpr int kEntryCount = 10;
constinit Entry g_entries[kEntryCount] = {
    {"free", true, 0, 0},          {"realloc", true, 0, 0},
    {"reallocarray", true, 0, 0},  {"malloc", false, 0, 0},
    {"calloc", false, 0, 0},       {"posix_memalign", false, 0, 0},
    {"aligned_alloc", false, 0, 0}, {"memalign", false, 0, 0},
    {"valloc", false, 0, 0},       {"pvalloc", false, 0, 0},
};

void FillEntries() {
  const uintptr_t hooks[kEntryCount] = {
      reinterpret_cast<uintptr_t>(&::free),          reinterpret_cast<uintptr_t>(&::realloc),
      reinterpret_cast<uintptr_t>(&::reallocarray),  reinterpret_cast<uintptr_t>(&::malloc),
      reinterpret_cast<uintptr_t>(&::calloc),        reinterpret_cast<uintptr_t>(&::posix_memalign),
      reinterpret_cast<uintptr_t>(&::aligned_alloc), reinterpret_cast<uintptr_t>(&::memalign),
      reinterpret_cast<uintptr_t>(&::valloc),        reinterpret_cast<uintptr_t>(&::pvalloc),
  };
  const uintptr_t originals[kEntryCount] = {
      reinterpret_cast<uintptr_t>(g_real.free),
      reinterpret_cast<uintptr_t>(g_real.realloc),
      reinterpret_cast<uintptr_t>(ProgramDefinition("reallocarray")),
      reinterpret_cast<uintptr_t>(g_real.malloc),
      reinterpret_cast<uintptr_t>(g_real.calloc),
      reinterpret_cast<uintptr_t>(g_real.posix_memalign),
      reinterpret_cast<uintptr_t>(g_real.aligned_alloc),
      reinterpret_cast<uintptr_t>(g_real.memalign),
      reinterpret_cast<uintptr_t>(g_real.valloc),
      reinterpret_cast<uintptr_t>(g_real.pvalloc),
  };
  for (int i = 0; i < kEntryCount; ++i) {
    g_entries[i].hook = hooks[i];
    g_entries[i].original = originals[i];
  }
}

constexpr int kMaxModules = 1024;
constexpr int kMaxSlots = 8192;
constexpr size_t kMaxName = 512;

struct Module {
  uintptr_t base;
  char name[kMaxName];
};

struct Slot {
  uintptr_t address;
  uintptr_t saved;   // what it held before
  uint16_t module;   // index into g_modules
  uint8_t entry;     // index into g_entries
};

// Control thread only. Globals (no function statics: see control_channel.cc).
constinit Module g_modules[kMaxModules]{};
constinit int g_module_count = 0;
constinit Slot g_slots[kMaxSlots]{};
constinit int g_slot_count = 0;
constinit unsigned long long g_loads_seen = 0;
constinit RedirectCounts g_counts;

// A loaded module as dl_iterate_phdr described it, copied out of the
// callback (which holds the loader's write lock: no dlopen inside it).
struct ModuleView {
  uintptr_t base;
  const ElfW(Phdr) * headers;
  int header_count;
  char name[kMaxName];
};

constexpr int kMaxViews = 1024;
constinit ModuleView g_views[kMaxViews]{};
constinit int g_view_count = 0;
constinit unsigned long long g_loads_now = 0;

int CopyModule(dl_phdr_info* info, size_t size, void*) {
  if (size >= offsetof(dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds)) {
    g_loads_now = info->dlpi_adds;
  }
  if (g_view_count == kMaxViews) return 0;
  ModuleView& view = g_views[g_view_count++];
  view.base = info->dlpi_addr;
  view.headers = info->dlpi_phdr;
  view.header_count = info->dlpi_phnum;
  snprintf(view.name, sizeof(view.name), "%s", info->dlpi_name != nullptr ? info->dlpi_name : "");
  return 0;
}

int ReadLoadCount(dl_phdr_info* info, size_t size, void*) {
  if (size >= offsetof(dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds)) {
    g_loads_now = info->dlpi_adds;
  }
  return 1;  // the first module is enough
}

uintptr_t OwnBase() {
  Dl_info self{};
  return dladdr(reinterpret_cast<void*>(&OwnBase), &self) != 0
             ? reinterpret_cast<uintptr_t>(self.dli_fbase)
             : 0;
}

// The loader (its GOT has no malloc slots: it allocates through pointers set
// at start), the vDSO, and this library are never touched.
bool Untouchable(const ModuleView& view, uintptr_t own_base) {
  if (view.base == own_base) return true;
  if (view.base == getauxval(AT_SYSINFO_EHDR)) return true;
  uintptr_t loader = getauxval(AT_BASE);
  if (loader != 0 && view.base == loader) return true;
  return std::strstr(view.name, "linux-vdso") != nullptr ||
         std::strstr(view.name, "/ld-linux") != nullptr;
}

// A pinned module: its link map's base must still be the one seen, else it
// was unloaded (and something else may sit there now).
void* Pin(const char* name, uintptr_t base) {
  void* handle = dlopen(name[0] != '\0' ? name : nullptr, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return nullptr;
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr || map->l_addr != base) {
    dlclose(handle);
    return nullptr;
  }
  return handle;
}

// What glibc made read-only after relocation: PT_GNU_RELRO with both ends
// rounded down to pages (_dl_protect_relro).
struct ReadOnlyRange {
  uintptr_t begin = 0, end = 0;
  bool Holds(uintptr_t address) const { return address >= begin && address < end; }
};

ReadOnlyRange RelroOf(const ModuleView& view) {
  ReadOnlyRange range;
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (int i = 0; i < view.header_count; ++i) {
    const ElfW(Phdr)& header = view.headers[i];
    if (header.p_type != PT_GNU_RELRO) continue;
    range.begin = (view.base + header.p_vaddr) & ~(page - 1);
    range.end = (view.base + header.p_vaddr + header.p_memsz) & ~(page - 1);
  }
  return range;
}

bool InExecutableSegment(const ModuleView& view, uintptr_t address) {
  for (int i = 0; i < view.header_count; ++i) {
    const ElfW(Phdr)& header = view.headers[i];
    if (header.p_type == PT_LOAD && (header.p_flags & PF_X) != 0 &&
        address >= view.base + header.p_vaddr &&
        address < view.base + header.p_vaddr + header.p_memsz) {
      return true;
    }
  }
  return false;
}

// The dynamic section's tables. glibc rewrites most d_ptr entries to
// addresses when it relocates; some loaders leave them as offsets.
struct DynamicTables {
  const ElfW(Sym) * symbols = nullptr;
  const char* strings = nullptr;
  const ElfW(Rela) * plt = nullptr;
  size_t plt_bytes = 0;
  const ElfW(Rela) * data = nullptr;
  size_t data_bytes = 0;
};

bool ReadDynamic(const ModuleView& view, DynamicTables* tables) {
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < view.header_count; ++i) {
    if (view.headers[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(view.base + view.headers[i].p_vaddr);
    }
  }
  if (dynamic == nullptr) return false;
  auto at = [&view](ElfW(Addr) value) { return value < view.base ? value + view.base : value; };
  bool rela_plt = true;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    switch (entry->d_tag) {
      case DT_SYMTAB: tables->symbols = reinterpret_cast<const ElfW(Sym)*>(at(entry->d_un.d_ptr)); break;
      case DT_STRTAB: tables->strings = reinterpret_cast<const char*>(at(entry->d_un.d_ptr)); break;
      case DT_JMPREL: tables->plt = reinterpret_cast<const ElfW(Rela)*>(at(entry->d_un.d_ptr)); break;
      case DT_PLTRELSZ: tables->plt_bytes = entry->d_un.d_val; break;
      case DT_PLTREL: rela_plt = entry->d_un.d_val == DT_RELA; break;
      case DT_RELA: tables->data = reinterpret_cast<const ElfW(Rela)*>(at(entry->d_un.d_ptr)); break;
      case DT_RELASZ: tables->data_bytes = entry->d_un.d_val; break;
      default: break;
    }
  }
  if (!rela_plt) tables->plt = nullptr;  // x86-64 is RELA only
  return tables->symbols != nullptr && tables->strings != nullptr;
}

int EntryNamed(const char* name) {
  for (int i = 0; i < kEntryCount; ++i) {
    if (std::strcmp(g_entries[i].name, name) == 0) return i;
  }
  return -1;
}

// The record of a slot at `address`, or -1.
int HeldIndex(uintptr_t address) {
  for (int i = 0; i < g_slot_count; ++i) {
    if (g_slots[i].address == address) return i;
  }
  return -1;
}

bool StillLoaded(const Module& module) {
  for (int i = 0; i < g_view_count; ++i) {
    if (g_views[i].base == module.base && std::strcmp(g_views[i].name, module.name) == 0) {
      return true;
    }
  }
  return false;
}

// Forgets the slots of modules unloaded since (after a fresh g_views): a
// program that loads and unloads plugins in a loop must not fill the table.
constinit int g_renumbered[kMaxModules];

void ForgetUnloadedModules() {
  int* renumbered = g_renumbered;
  int modules = 0;
  for (int m = 0; m < g_module_count; ++m) {
    renumbered[m] = -1;
    if (!StillLoaded(g_modules[m])) continue;
    renumbered[m] = modules;
    if (modules != m) g_modules[modules] = g_modules[m];
    ++modules;
  }
  g_module_count = modules;
  int kept = 0;
  for (int i = 0; i < g_slot_count; ++i) {
    int module = renumbered[g_slots[i].module];
    if (module < 0) continue;
    g_slots[kept] = g_slots[i];
    g_slots[kept++].module = static_cast<uint16_t>(module);
  }
  g_slot_count = kept;
}

int ModuleIndex(const ModuleView& view) {
  for (int i = 0; i < g_module_count; ++i) {
    if (g_modules[i].base == view.base && std::strcmp(g_modules[i].name, view.name) == 0) return i;
  }
  if (g_module_count == kMaxModules) return -1;
  Module& module = g_modules[g_module_count];
  module.base = view.base;
  std::memcpy(module.name, view.name, sizeof(module.name));
  return g_module_count++;
}

bool CompareAndSwap(uintptr_t address, uintptr_t expected, uintptr_t desired) {
  return __atomic_compare_exchange_n(reinterpret_cast<uintptr_t*>(address), &expected, desired,
                                     false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

// Makes the module's RELRO pages writable for the duration (once), and
// read-only again at the end.
class RelroWindow {
 public:
  explicit RelroWindow(ReadOnlyRange range) : range_(range) {}
  ~RelroWindow() {
    if (open_) mprotect(reinterpret_cast<void*>(range_.begin), range_.end - range_.begin, PROT_READ);
  }
  bool Writable(uintptr_t address) {
    if (!range_.Holds(address)) return true;
    if (!open_ && !refused_) {
      open_ = mprotect(reinterpret_cast<void*>(range_.begin), range_.end - range_.begin,
                       PROT_READ | PROT_WRITE) == 0;
      refused_ = !open_;
    }
    return open_;
  }
  bool refused() const { return refused_; }

 private:
  ReadOnlyRange range_;
  bool open_ = false;
  bool refused_ = false;
};

// Redirects one side's slots of one pinned module.
void RedirectModule(const ModuleView& view, bool releasing_side) {
  DynamicTables tables;
  if (!ReadDynamic(view, &tables)) return;
  RelroWindow window(RelroOf(view));
  int module = -1;
  bool any = false;
  auto scan = [&](const ElfW(Rela) * table, size_t bytes) {
    if (table == nullptr) return;
    for (size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
      const ElfW(Rela)& relocation = table[i];
      uint32_t type = ELF64_R_TYPE(relocation.r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT &&
          !(type == R_X86_64_64 && relocation.r_addend == 0)) {
        continue;
      }
      const ElfW(Sym)& symbol = tables.symbols[ELF64_R_SYM(relocation.r_info)];
      int entry = EntryNamed(tables.strings + symbol.st_name);
      if (entry < 0 || g_entries[entry].releases != releasing_side) continue;
      uintptr_t address = view.base + relocation.r_offset;
      uintptr_t value = *reinterpret_cast<const volatile uintptr_t*>(address);
      if (value == g_entries[entry].hook) continue;  // ours already
      // A record for this address whose slot no longer holds our entry
      // point belongs to a module unloaded and loaded again at the same
      // place: it is replaced below.
      int held = HeldIndex(address);
      // The definition the agent forwards to, or this module's own lazy
      // binding stub (a module that defines the name itself keeps its own).
      bool bound = value == g_entries[entry].original && value != 0;
      bool lazy = symbol.st_shndx == SHN_UNDEF && InExecutableSegment(view, value);
      if (!bound && !lazy) {
        ++g_counts.slots_left_alone;
        continue;
      }
      if ((held < 0 && g_slot_count == kMaxSlots) || !window.Writable(address)) continue;
      if (module < 0 && (module = ModuleIndex(view)) < 0) return;
      if (!CompareAndSwap(address, value, g_entries[entry].hook)) continue;
      g_slots[held >= 0 ? held : g_slot_count++] = {
          address, value, static_cast<uint16_t>(module), static_cast<uint8_t>(entry)};
      ++g_counts.slots;
      any = true;
    }
  };
  scan(tables.plt, tables.plt_bytes);
  scan(tables.data, tables.data_bytes);
  if (window.refused()) ++g_counts.modules_refused;
  if (any) ++g_counts.modules;
}

void RedirectSide(bool releasing_side) {
  uintptr_t own_base = OwnBase();
  for (int i = 0; i < g_view_count; ++i) {
    const ModuleView& view = g_views[i];
    if (Untouchable(view, own_base)) continue;
    void* pin = Pin(view.name, view.base);
    if (pin == nullptr) continue;
    RedirectModule(view, releasing_side);
    dlclose(pin);
  }
}

void RedirectAll() {
  if (g_entries[0].hook == 0) FillEntries();
  g_view_count = 0;
  dl_iterate_phdr(CopyModule, nullptr);
  g_loads_seen = g_loads_now;
  ForgetUnloadedModules();
  RedirectSide(true);
  RedirectSide(false);
}

// After one copy of the module list (g_views).
void RestoreSide(bool releasing_side) {
  for (int m = 0; m < g_module_count; ++m) {
    const Module& module = g_modules[m];
    const ModuleView* view = nullptr;
    for (int i = 0; i < g_view_count; ++i) {
      if (g_views[i].base == module.base && std::strcmp(g_views[i].name, module.name) == 0) {
        view = &g_views[i];
      }
    }
    if (view == nullptr) continue;  // unloaded: its slots went with it
    void* pin = Pin(module.name, module.base);
    if (pin == nullptr) continue;
    RelroWindow window(RelroOf(*view));
    for (int i = 0; i < g_slot_count; ++i) {
      const Slot& slot = g_slots[i];
      if (slot.module != m || g_entries[slot.entry].releases != releasing_side) continue;
      if (window.Writable(slot.address)) {
        CompareAndSwap(slot.address, g_entries[slot.entry].hook, slot.saved);
      }
    }
    dlclose(pin);
  }
}

}  // namespace

RedirectCounts RedirectAllocationCalls() {
  InAgentScope scope;
  g_counts = RedirectCounts{};
  RedirectAll();
  return g_counts;
}

void RedirectCallsInNewModules() {
  InAgentScope scope;
  dl_iterate_phdr(ReadLoadCount, nullptr);
  if (g_loads_now == g_loads_seen) return;
  RedirectAll();
}

void RestoreAllocationCalls() {
  InAgentScope scope;
  g_view_count = 0;
  dl_iterate_phdr(CopyModule, nullptr);
  RestoreSide(false);
  RestoreSide(true);
  g_slot_count = 0;
  g_module_count = 0;
}

uint32_t RedirectedSlotCount() { return static_cast<uint32_t>(g_slot_count); }

}  // namespace heapdrift::agent
