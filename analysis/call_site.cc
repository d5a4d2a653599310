#include "call_site.h"

#include <string_view>

namespace heapdrift {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsRuntimeModule(std::string_view module) {
  std::string_view name = Basename(module);
  for (std::string_view runtime : {"libc.so", "libstdc++.so", "libgcc_s.so", "ld-linux",
                                   "libheapdrift.so", "libjemalloc.so", "libtcmalloc",
                                   "libm.so", "libc++.so", "libc++abi.so"}) {
    if (StartsWith(name, runtime)) return true;
  }
  return false;
}

// The name without its parameter list: "f(int)" -> "f".
std::string_view BareName(std::string_view function) {
  size_t paren = function.find('(');
  return paren == std::string_view::npos ? function : function.substr(0, paren);
}

// malloc wrappers of widely deployed programs and libraries, which would
// otherwise be named as the call site of everything: redis (zmalloc), git
// and binutils (xmalloc), GLib (g_malloc), CPython (PyMem_*, PyObject_*),
// nginx (ngx_alloc and its pools: a pool's blocks are charged to the code
// that created or grew the pool).
bool IsWellKnownWrapper(std::string_view name) {
  for (std::string_view wrapper :
       {"zmalloc", "zcalloc", "zrealloc", "zmalloc_usable", "zcalloc_usable",
        "zrealloc_usable", "ztrymalloc", "ztrycalloc", "ztryrealloc", "ztrymalloc_usable",
        "ztrycalloc_usable", "ztryrealloc_usable", "zstrdup", "xmalloc", "xcalloc",
        "xrealloc", "xstrdup", "xstrndup", "xmallocz", "xmemdupz", "g_malloc", "g_malloc0",
        "g_malloc_n", "g_malloc0_n", "g_realloc", "g_realloc_n", "g_try_malloc",
        "g_try_malloc0", "g_try_realloc", "g_strdup", "g_strndup", "g_memdup2", "PyMem_Malloc",
        "PyMem_Calloc", "PyMem_Realloc", "PyMem_RawMalloc", "PyMem_RawCalloc",
        "PyMem_RawRealloc", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
        "ngx_alloc", "ngx_calloc", "ngx_memalign", "ngx_create_pool", "ngx_palloc",
        "ngx_pnalloc", "ngx_pcalloc", "ngx_pmemalign", "ngx_palloc_small", "ngx_palloc_block",
        "ngx_palloc_large"}) {
    if (name == wrapper) return true;
  }
  return false;
}

// Allocation helpers: operator new and delete, the standard library's
// allocators and containers (their inlined bodies come from the C++
// headers), and the malloc family itself.
bool IsAllocationHelper(const symbolizer::Frame& frame) {
  std::string_view function = frame.function;
  for (std::string_view prefix :
       {"std::", "__gnu_cxx::", "__cxa_", "operator new", "operator delete", "__libc_"}) {
    if (StartsWith(function, prefix)) return true;
  }
  std::string_view name = BareName(function);
  for (std::string_view allocator : {"malloc", "calloc", "realloc", "reallocarray",
                                     "posix_memalign", "aligned_alloc", "memalign", "valloc",
                                     "pvalloc", "strdup", "strndup"}) {
    if (name == allocator) return true;
  }
  return IsWellKnownWrapper(name) || StartsWith(frame.file, "/usr/include/c++/");
}

// A user's wrapper matches by name, with or without its parameter list.
bool IsWrapper(const symbolizer::Frame& frame, const std::vector<std::string>& wrappers) {
  for (const std::string& wrapper : wrappers) {
    if (frame.function == wrapper || BareName(frame.function) == wrapper) return true;
  }
  return false;
}

}  // namespace

size_t AllocatingFrame(const std::vector<symbolizer::Frame>& frames,
                       const std::vector<std::string>& wrappers) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const symbolizer::Frame& frame = frames[i];
    if (IsRuntimeModule(frame.module) || IsAllocationHelper(frame) || IsWrapper(frame, wrappers)) {
      continue;
    }
    return i;
  }
  return 0;
}

std::string CallSiteKey(const symbolizer::Frame& frame) {
  if (frame.function.empty()) return frame.ModuleOffset();
  return frame.function + "\t" + frame.Location();
}

}  // namespace heapdrift
