// Debian's compiler under the agent: the compiler proper (cc1plus -O2) on a
// large preprocessed translation unit, and a whole g++ compile (the driver,
// cc1plus and the assembler, followed across exec) in exact mode, the case a
// full-tracing profiler runs out of memory on. Output must be identical and
// the agent's memory must stay under its documented bound.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "paths.h"
#include "recording_queries.h"
#include "system_support.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

// A translation unit with the whole standard library and code that uses it.
void WriteBigSource(const std::string& path) {
  std::ofstream source(path);
  source << "#include <bits/stdc++.h>\n";
  for (int i = 0; i < 60; ++i) {
    source << "std::map<std::string, std::vector<int>> Build" << i
           << "(int n) { std::map<std::string, std::vector<int>> m;"
              " for (int k = 0; k < n; ++k) m[std::to_string(k * " << i
           << ")].push_back(k); std::sort(m[\"0\"].begin(), m[\"0\"].end()); return m; }\n";
  }
}

const char* const kCc1plus = "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus";

TEST(Toolchain, Cc1plusOnALargePreprocessedUnitWritesTheSameAssembly) {
  ASSERT_TRUE(std::filesystem::exists(kCc1plus));
  TempDir dir;
  WriteBigSource(dir.File("big.cc"));
  ASSERT_EQ(RunProcess({"g++", "-std=c++20", "-E", dir.File("big.cc"), "-o", dir.File("big.ii")})
                .exit_code,
            0);
  ProcessResult plain = RunProcess({kCc1plus, "-fpreprocessed", "-quiet", "-O2", "-std=c++20",
                                    dir.File("big.ii"), "-o", dir.File("plain.s")},
                                   {}, 600);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ProcessResult traced = RunUnderAgent({kCc1plus, "-fpreprocessed", "-quiet", "-O2", "-std=c++20",
                                        dir.File("big.ii"), "-o", dir.File("traced.s")},
                                       dir.File("cc1plus.rec"), {{"HEAPDRIFT_INTERVAL_MS", "250"}},
                                       600);
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(ReadFile(dir.File("traced.s")), ReadFile(dir.File("plain.s")));
  EXPECT_TRUE(LinesStartingWith(traced.err, "heapdrift:").empty()) << traced.err;
  ExpectSoundRecording(dir.File("cc1plus.rec"));
}

TEST(Toolchain, AWholeGxxCompileInExactModeStaysBoundedAndIdentical) {
  TempDir dir;
  WriteBigSource(dir.File("big.cc"));
  std::vector<std::string> compile = {"g++", "-std=c++20", "-O2", "-c", dir.File("big.cc"), "-o"};
  ProcessResult plain = RunProcess({compile[0], compile[1], compile[2], compile[3], compile[4],
                                    compile[5], dir.File("plain.o")},
                                   {}, 600);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::filesystem::create_directories(dir.File("recs"));
  ProcessResult traced = RunProcess(
      {kCliPath, "run", "--sample-bytes", "1", "-o", dir.File("recs/gxx.rec"),
       "--", compile[0], compile[1], compile[2], compile[3], compile[4], compile[5],
       dir.File("traced.o")},
      {}, 900);
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(ReadFile(dir.File("traced.o")), ReadFile(dir.File("plain.o")));
  // The driver, cc1plus and as, each with a recording of its own, and run
  // says so in one line; the agent says nothing.
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:").size(), 1u) << traced.err;
  EXPECT_NE(traced.err.find("heapdrift report " + dir.File("recs/gxx.rec") + " covers them all"),
            std::string::npos)
      << traced.err;
  std::set<std::string> programs;
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("recs"))) {
    heapdrift::Recording recording = LoadRecording(entry.path().string());
    programs.insert(std::filesystem::path(recording.header.executable()).filename().string());
    ASSERT_FALSE(recording.snapshots.empty());
    const proto::AgentStats& stats = recording.snapshots.back().stats();
    // Exact mode loses nothing (cc1plus's deep recursive stacks outgrow the
    // table: their samples go under truncated stacks, not away), and the
    // agent's memory stays under its reservation (README "Memory bound").
    EXPECT_EQ(stats.dropped_ring_full() + stats.dropped_no_ring() +
                  stats.dropped_live_table_full() + stats.dropped_stack_table_full(),
              0u)
        << entry.path();
    EXPECT_LT(stats.agent_memory_bytes(), 448u << 20) << entry.path();
  }
  EXPECT_TRUE(programs.count("cc1plus")) << "programs recorded: " << programs.size();
  EXPECT_TRUE(programs.count("as") || programs.count("x86_64-linux-gnu-as"));
}

}  // namespace
}  // namespace heapdrift::testing
