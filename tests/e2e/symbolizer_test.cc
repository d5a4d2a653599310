// The symbolizer on real ELF files recorded in real processes: a program and
// a shared library with DWARF, the program without DWARF, without any
// symbols, with its debug information found by build-id or .gnu_debuglink,
// and replaced on disk after recording.
#include "symbolizer.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "call_site_resolver.h"
#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

namespace fs = std::filesystem;

struct Recorded {
  heapdrift::Recording recording;
  int host_line = 0, library_line = 0;
};

Recorded Record(const std::string& program, const TempDir& dir) {
  Recorded recorded;
  ProcessResult run =
      RunUnderAgent({program}, dir.File("sym.rec"), {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(sscanf(run.out.c_str(), "host_line=%d library_line=%d", &recorded.host_line,
                   &recorded.library_line),
            2)
      << run.out;
  recorded.recording = LoadRecording(dir.File("sym.rec"));
  return recorded;
}

// All frames of all stacks, symbolized.
std::vector<symbolizer::Frame> AllFrames(const heapdrift::Recording& recording,
                                         symbolizer::Symbolizer& symbolizer) {
  std::vector<symbolizer::Frame> frames;
  for (const auto& [id, stack] : recording.stacks) {
    for (uint64_t address : stack) {
      for (const auto& frame : symbolizer.Symbolize(address)) frames.push_back(frame);
    }
  }
  return frames;
}

const symbolizer::Frame* FindFunction(const std::vector<symbolizer::Frame>& frames,
                                      const std::string& function) {
  for (const auto& frame : frames) {
    if (frame.function == function) return &frame;
  }
  return nullptr;
}

std::string FileName(const std::string& path) { return fs::path(path).filename(); }

// The recorded host's allocating function, symbolized with debug files
// searched in `debug_paths` (libdwfl's default when empty); nullopt if no
// frame names it.
std::optional<symbolizer::Frame> HostFrame(const Recorded& recorded,
                                           const std::string& debug_paths = "") {
  symbolizer::Symbolizer symbolizer(heapdrift::SymbolizerModules(recorded.recording), debug_paths);
  std::vector<symbolizer::Frame> frames = AllFrames(recorded.recording, symbolizer);
  const symbolizer::Frame* host = FindFunction(frames, "AllocateRecord");
  if (host == nullptr) return std::nullopt;
  return *host;
}

TEST(Symbolizer, ResolvesFunctionFileAndLineInAProgramAndASharedLibrary) {
  TempDir dir;
  Recorded recorded = Record(Host("symbols_host"), dir);
  symbolizer::Symbolizer symbolizer(heapdrift::SymbolizerModules(recorded.recording));
  auto frames = AllFrames(recorded.recording, symbolizer);
  const symbolizer::Frame* host = FindFunction(frames, "AllocateRecord");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(FileName(host->file), "symbols_host.c");
  EXPECT_EQ(host->line, recorded.host_line);
  const symbolizer::Frame* library = FindFunction(frames, "LibraryAllocate");
  ASSERT_NE(library, nullptr);
  EXPECT_EQ(FileName(library->file), "symbols_lib.c");
  EXPECT_EQ(library->line, recorded.library_line);
  EXPECT_EQ(FileName(library->module), "libsymbols_lib.so");
  EXPECT_NE(FindFunction(frames, "main"), nullptr);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(Symbolizer, WithoutDebugInformationFallsBackToElfSymbols) {
  TempDir dir;
  Recorded recorded = Record(Host("symbols_host_nodebug"), dir);
  std::optional<symbolizer::Frame> host = HostFrame(recorded);
  ASSERT_TRUE(host);
  EXPECT_EQ(host->file, "");
  EXPECT_EQ(host->line, 0);
}

// With no symbols at all, the program's frames are module+offset: never a
// wrong name borrowed from a neighbouring symbol.
TEST(Symbolizer, AStrippedProgramShowsModuleOffsetsNotWrongNames) {
  TempDir dir;
  Recorded recorded = Record(Host("symbols_host_stripped"), dir);
  symbolizer::Symbolizer symbolizer(heapdrift::SymbolizerModules(recorded.recording),
                                    dir.File("no-debug-files-here"));
  int program_frames = 0;
  for (const auto& frame : AllFrames(recorded.recording, symbolizer)) {
    if (FileName(frame.module) != "symbols_host_stripped") continue;
    ++program_frames;
    EXPECT_EQ(frame.function, "") << frame.Describe();
    EXPECT_EQ(frame.Describe().rfind("symbols_host_stripped+0x", 0), 0u) << frame.Describe();
  }
  EXPECT_GT(program_frames, 0);
}

TEST(Symbolizer, FindsSeparateDebugInformationByBuildId) {
  TempDir dir;
  Recorded recorded = Record(Host("symbols_host_stripped"), dir);
  std::string build_id;
  for (const auto& mapping : recorded.recording.mappings) {
    if (FileName(mapping.path()) == "symbols_host_stripped") build_id = mapping.build_id();
  }
  ASSERT_EQ(build_id.size(), 20u);
  std::string hex;
  for (unsigned char byte : build_id) hex += fmt::format("{:02x}", byte);
  fs::path debug_dir = dir.path() / "debug" / ".build-id" / hex.substr(0, 2);
  fs::create_directories(debug_dir);
  fs::copy_file(Host("symbols_host.debug"), debug_dir / (hex.substr(2) + ".debug"));
  std::optional<symbolizer::Frame> host = HostFrame(recorded, (dir.path() / "debug").string());
  ASSERT_TRUE(host);
  EXPECT_EQ(host->line, recorded.host_line);
}

TEST(Symbolizer, FindsSeparateDebugInformationByDebuglink) {
  TempDir dir;
  Recorded recorded = Record(Host("symbols_host_debuglink"), dir);
  std::optional<symbolizer::Frame> host = HostFrame(recorded);
  ASSERT_TRUE(host);
  EXPECT_EQ(host->line, recorded.host_line);
}

TEST(Symbolizer, AFileReplacedSinceRecordingIsNotUsed) {
  TempDir dir;
  fs::copy_file(Host("symbols_host"), dir.File("program"));
  Recorded recorded = Record(dir.File("program"), dir);
  fs::remove(dir.File("program"));
  fs::copy_file(Host("entry_points"), dir.File("program"));  // another build-id
  symbolizer::Symbolizer symbolizer(heapdrift::SymbolizerModules(recorded.recording));
  auto frames = AllFrames(recorded.recording, symbolizer);
  EXPECT_EQ(FindFunction(frames, "AllocateRecord"), nullptr);
  ASSERT_EQ(symbolizer.warnings().size(), 1u);
  EXPECT_NE(symbolizer.warnings()[0].find("has changed since it was recorded"), std::string::npos);
  for (const auto& frame : frames) {
    if (frame.module == dir.File("program")) {
      EXPECT_EQ(frame.function, "");
    }
  }
}

}  // namespace
}  // namespace heapdrift::testing
