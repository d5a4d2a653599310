#include "call_site.h"

#include <gtest/gtest.h>

namespace heapdrift {
namespace {

symbolizer::Frame At(std::string function, std::string file, std::string module) {
  symbolizer::Frame frame;
  frame.function = std::move(function);
  frame.file = std::move(file);
  frame.module = std::move(module);
  return frame;
}

TEST(CallSite, SkipsTheAllocatorTheRuntimeAndInlinedStandardLibrary) {
  std::vector<symbolizer::Frame> frames = {
      At("operator new(unsigned long)", "", "/lib/x86_64-linux-gnu/libstdc++.so.6"),
      At("std::__new_allocator<char>::allocate(unsigned long, void const*)",
         "/usr/include/c++/12/bits/new_allocator.h", "/app/server"),
      At("std::vector<char>::vector(unsigned long)", "/usr/include/c++/12/bits/stl_vector.h",
         "/app/server"),
      At("ReadRequestBody", "/src/main.cc", "/app/server"),
      At("main", "/src/main.cc", "/app/server")};
  EXPECT_EQ(AllocatingFrame(frames, {}), 3u);
}

TEST(CallSite, SkipsMallocItselfAndStrdupInLibc) {
  std::vector<symbolizer::Frame> frames = {At("strdup", "", "/lib/x86_64-linux-gnu/libc.so.6"),
                                           At("CopyName", "/src/names.c", "/app/server")};
  EXPECT_EQ(AllocatingFrame(frames, {}), 1u);
}

TEST(CallSite, SkipsTheUsersOwnWrappers) {
  std::vector<symbolizer::Frame> frames = {At("my_alloc", "/src/util.c", "/app/server"),
                                           At("pool_alloc(unsigned long)", "/src/pool.cc",
                                              "/app/server"),
                                           At("NewSession", "/src/session.cc", "/app/server")};
  EXPECT_EQ(AllocatingFrame(frames, {}), 0u);
  EXPECT_EQ(AllocatingFrame(frames, {"my_alloc", "pool_alloc"}), 2u);
}

TEST(CallSite, SkipsWellKnownWrappersOfRedisGitGlibPythonAndNginx) {
  for (const char* wrapper : {"zmalloc_usable", "ztrymalloc_usable", "xmalloc", "g_malloc0",
                              "PyObject_Malloc", "ngx_palloc_block"}) {
    std::vector<symbolizer::Frame> frames = {At("malloc", "", "/lib/libc.so.6"),
                                             At(wrapper, "", "/usr/bin/program"),
                                             At("dictAddRaw", "", "/usr/bin/program")};
    EXPECT_EQ(AllocatingFrame(frames, {}), 2u) << wrapper;
  }
  // Only whole names: a function that merely starts like one is a call site.
  std::vector<symbolizer::Frame> frames = {At("zmallocStats", "", "/usr/bin/program")};
  EXPECT_EQ(AllocatingFrame(frames, {}), 0u);
}

TEST(CallSite, UnknownFramesAreKeptAsModuleOffsets) {
  symbolizer::Frame unknown;
  unknown.module = "/usr/lib/libplugin.so";
  unknown.module_offset = 0x1234;
  std::vector<symbolizer::Frame> frames = {
      At("malloc", "", "/lib/x86_64-linux-gnu/libc.so.6"), unknown};
  EXPECT_EQ(AllocatingFrame(frames, {}), 1u);
  EXPECT_EQ(CallSiteKey(unknown), "libplugin.so+0x1234");
}

TEST(CallSite, StacksWithTheSameSiteShareAKey) {
  symbolizer::Frame a = At("f", "/src/a.cc", "/app"), b = a;
  b.line = a.line = 10;
  b.module_offset = 99;  // another return address in the same line
  EXPECT_EQ(CallSiteKey(a), CallSiteKey(b));
  b.line = 11;
  EXPECT_NE(CallSiteKey(a), CallSiteKey(b));
}

}  // namespace
}  // namespace heapdrift
