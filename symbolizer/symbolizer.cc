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

// The chain of inlined calls under `scope` that contain `pc`, outermost
// first. Only scopes that contain pc are descended into.
void FindInlineChain(Dwarf_Die* scope, Dwarf_Addr pc, std::vector<Dwarf_Die>* chain) {
  Dwarf_Die child;
  if (dwarf_child(scope, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
        dwarf_haspc(&child, pc) == 1) {
      if (tag == DW_TAG_inlined_subroutine) chain->push_back(child);
      FindInlineChain(&child, pc, chain);
      return;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// Every concrete function of a compilation unit with its address ranges,
// sorted: built once per CU, so finding the function of an address is a
// binary search instead of a walk of the whole CU (what dwarf_getscopes does
// for every address).
struct FunctionRange {
  Dwarf_Addr low, high;
  Dwarf_Die die;
};

void CollectFunctions(Dwarf_Die* parent, std::vector<FunctionRange>* functions) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_subprogram: {
        Dwarf_Addr base = 0, low = 0, high = 0;
        for (ptrdiff_t offset = 0;
             (offset = dwarf_ranges(&child, offset, &base, &low, &high)) > 0;) {
          functions->push_back({low, high, child});
        }
        break;
      }
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        CollectFunctions(&child, functions);
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

}  // namespace

struct Symbolizer::Impl {
  std::unordered_map<Dwarf_Off, std::vector<FunctionRange>> cu_functions;

  const FunctionRange* FunctionAt(Dwarf_Die* cu, Dwarf_Addr pc) {
    auto [it, inserted] = cu_functions.try_emplace(dwarf_dieoffset(cu));
    std::vector<FunctionRange>& functions = it->second;
    if (inserted) {
      CollectFunctions(cu, &functions);
      std::sort(functions.begin(), functions.end(),
                [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
    }
    auto after = std::upper_bound(functions.begin(), functions.end(), pc,
                                  [](Dwarf_Addr value, const FunctionRange& range) {
                                    return value < range.low;
                                  });
    // Concrete functions do not overlap: only the last one starting at or
    // before pc can contain it.
    if (after == functions.begin()) return nullptr;
    --after;
    return pc < after->high ? &*after : nullptr;
  }

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

  // Inlined calls, innermost first: the concrete function containing the
  // address (from the CU's sorted function index), then the inlined calls
  // inside it that contain the address. Each inlined call is a frame at the
  // current location; its caller's location is the call site it records.
  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, address, &bias)) {
    const Dwarf_Addr pc = address - bias;
    if (const FunctionRange* function = impl_->FunctionAt(cu, pc)) {
      Dwarf_Die function_die = function->die;
      std::vector<Dwarf_Die> chain;  // outermost first
      FindInlineChain(&function_die, pc, &chain);
      for (auto inlined = chain.rbegin(); inlined != chain.rend(); ++inlined) {
        Frame frame = outer;
        frame.function = FunctionName(&*inlined);
        frame.file = location_file;
        frame.line = location_line;
        frame.inlined = true;
        frames.push_back(std::move(frame));
        location_file = CallFile(cu, &*inlined);
        location_line = CallLine(&*inlined);
      }
      if (outer.function.empty()) outer.function = FunctionName(&function_die);
    }
  }
  outer.file = location_file;
  outer.line = location_line;
  frames.push_back(std::move(outer));
  return frames;
}

}  // namespace heapdrift::symbolizer
