#include "symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "demangle.h"

namespace heapdrift::symbolizer {
namespace {

std::string HexBuildId(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

// The name a DWARF function DIE stands for: its linkage name demangled (fully
// qualified), else its plain name; both looked up through abstract origins.
std::string FunctionName(Dwarf_Die* die) {
  Dwarf_Attribute attribute;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attribute) != nullptr) {
      if (const char* linkage = dwarf_formstring(&attribute)) return Demangle(linkage);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attribute) != nullptr) {
    if (const char* plain = dwarf_formstring(&attribute)) return plain;
  }
  return "";
}

// DW_AT_call_file of an inlined call, as a path from the CU's file table.
std::string CallFile(Dwarf_Die* cu, Dwarf_Die* inlined) {
  Dwarf_Attribute attribute;
  Dwarf_Word index = 0;
  if (dwarf_attr(inlined, DW_AT_call_file, &attribute) == nullptr ||
      dwarf_formudata(&attribute, &index) != 0) {
    return "";
  }
  Dwarf_Files* files = nullptr;
  size_t count = 0;
  if (dwarf_getsrcfiles(cu, &files, &count) != 0 || index >= count) return "";
  const char* name = dwarf_filesrc(files, index, nullptr, nullptr);
  return name != nullptr ? name : "";
}

int CallLine(Dwarf_Die* inlined) {
  Dwarf_Attribute attribute;
  Dwarf_Word line = 0;
  if (dwarf_attr(inlined, DW_AT_call_line, &attribute) == nullptr ||
      dwarf_formudata(&attribute, &line) != 0) {
    return 0;
  }
  return static_cast<int>(line);
}

}  // namespace

struct Symbolizer::Impl {
  std::string debug_paths;
  char* debug_paths_c = nullptr;
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  std::vector<ModuleSpec> modules;
  std::vector<bool> usable;  // parallel to modules

  const ModuleSpec* ModuleAt(uint64_t address, bool* is_usable) const {
    for (size_t i = 0; i < modules.size(); ++i) {
      if (address >= modules[i].start && address < modules[i].limit) {
        *is_usable = usable[i];
        return &modules[i];
      }
    }
    return nullptr;
  }
};

Symbolizer::Symbolizer(std::vector<ModuleSpec> modules, std::string debug_paths)
    : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.debug_paths = debug_paths;
  impl.debug_paths_c = debug_paths.empty() ? nullptr : impl.debug_paths.data();
  impl.callbacks.find_elf = dwfl_build_id_find_elf;
  impl.callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
  impl.callbacks.section_address = dwfl_offline_section_address;
  impl.callbacks.debuginfo_path = impl.debug_paths_c != nullptr ? &impl.debug_paths_c : nullptr;
  impl.dwfl = dwfl_begin(&impl.callbacks);
  impl.modules = std::move(modules);
  impl.usable.assign(impl.modules.size(), false);
  if (impl.dwfl == nullptr) {
    warnings_.push_back(std::string("libdwfl: ") + dwfl_errmsg(-1) + "; frames stay unsymbolized");
    return;
  }
  dwfl_report_begin(impl.dwfl);
  for (size_t i = 0; i < impl.modules.size(); ++i) {
    const ModuleSpec& spec = impl.modules[i];
    if (spec.path.empty() || spec.path[0] == '[') continue;  // [vdso]: no file to read
    Dwfl_Module* module = nullptr;
    bool file_readable = access(spec.path.c_str(), R_OK) == 0;
    if (file_readable) {
      module = dwfl_report_elf(impl.dwfl, spec.path.c_str(), spec.path.c_str(), -1,
                               spec.load_bias, false);
      if (module != nullptr && !spec.build_id.empty()) {
        const unsigned char* bits = nullptr;
        GElf_Addr vaddr = 0;
        int length = dwfl_module_build_id(module, &bits, &vaddr);
        if (length <= 0 || spec.build_id != std::string(reinterpret_cast<const char*>(bits),
                                                          static_cast<size_t>(length))) {
          warnings_.push_back(spec.path + " has changed since it was recorded (build-id " +
                              HexBuildId(spec.build_id) +
                              " no longer matches); its frames are shown as module+offset");
          continue;
        }
      }
    } else if (!spec.build_id.empty()) {
      // The file is gone: debug information may still be found by build-id.
      module = dwfl_report_module(impl.dwfl, spec.path.c_str(), spec.start, spec.limit);
      if (module != nullptr &&
          dwfl_module_report_build_id(module,
                                      reinterpret_cast<const unsigned char*>(spec.build_id.data()),
                                      spec.build_id.size(), 0) != 0) {
        module = nullptr;
      }
    }
    if (module == nullptr) {
      warnings_.push_back("cannot read " + spec.path +
                          (file_readable ? std::string(": ") + dwfl_errmsg(-1) : "") +
                          "; its frames are shown as module+offset");
      continue;
    }
    impl.usable[i] = true;
  }
  dwfl_report_end(impl.dwfl, nullptr, nullptr);
}

Symbolizer::~Symbolizer() {
  if (impl_->dwfl != nullptr) dwfl_end(impl_->dwfl);
}

const std::vector<Frame>& Symbolizer::Symbolize(uint64_t return_address) {
  auto cached = cache_.find(return_address);
  if (cached != cache_.end()) return cached->second;
  std::vector<Frame>& frames = cache_[return_address];

  // A return address points after the call; the call is the byte before.
  const uint64_t address = return_address - 1;
  Frame outer;
  bool usable = false;
  const ModuleSpec* spec = impl_->ModuleAt(address, &usable);
  if (spec != nullptr) {
    outer.module = spec->path;
    outer.module_offset = address - spec->load_bias;
  } else {
    outer.module_offset = address;
  }
  Dwfl_Module* module =
      usable && impl_->dwfl != nullptr ? dwfl_addrmodule(impl_->dwfl, address) : nullptr;
  if (module == nullptr) {
    frames.push_back(outer);
    return frames;
  }

  // The containing function from the symbol table: trusted only when the
  // symbol's extent covers the address.
  GElf_Off offset = 0;
  GElf_Sym symbol{};
  const char* symbol_name =
      dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr);
  if (symbol_name != nullptr && (symbol.st_size == 0 ? offset == 0 : offset < symbol.st_size)) {
    outer.function = Demangle(symbol_name);
  }
  int line_number = 0;
  const char* file = nullptr;
  if (Dwfl_Line* line = dwfl_module_getsrc(module, address)) {
    file = dwfl_lineinfo(line, nullptr, &line_number, nullptr, nullptr, nullptr);
  }
  std::string location_file = file != nullptr ? file : "";
  int location_line = line_number;

  // Inlined calls, innermost first. dwarf_getscopes gives the scopes at the
  // address, but past the first inlined call it continues in that function's
  // abstract definition, so each caller is found from the concrete DIE
  // instead (dwarf_getscopes_die). Each inlined call is a frame at the current
  // location; its caller's location is the inlined DIE's call site.
  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, address, &bias)) {
    Dwarf_Die current;
    bool found = false;
    Dwarf_Die* scopes = nullptr;
    int count = dwarf_getscopes(cu, address - bias, &scopes);
    for (int i = 0; i < count && !found; ++i) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
        current = scopes[i];
        found = true;
      }
    }
    free(scopes);
    for (int depth = 0; found && depth < 64 && dwarf_tag(&current) == DW_TAG_inlined_subroutine;
         ++depth) {
      Frame inlined = outer;
      inlined.function = FunctionName(&current);
      inlined.file = location_file;
      inlined.line = location_line;
      inlined.inlined = true;
      frames.push_back(std::move(inlined));
      location_file = CallFile(cu, &current);
      location_line = CallLine(&current);
      Dwarf_Die* parents = nullptr;
      int parent_count = dwarf_getscopes_die(&current, &parents);
      found = false;
      for (int i = 1; i < parent_count && !found; ++i) {
        int tag = dwarf_tag(&parents[i]);
        if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
          current = parents[i];
          found = true;
        }
      }
      free(parents);
    }
    if (outer.function.empty() && found) outer.function = FunctionName(&current);
  }
  outer.file = location_file;
  outer.line = location_line;
  frames.push_back(std::move(outer));
  return frames;
}

}  // namespace heapdrift::symbolizer
