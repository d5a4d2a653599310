// `heapdrift export`: pprof read back by libprotobuf and by Go's own
// `go tool pprof`, and folded stacks, both matching the recording.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "paths.h"
#include "pprof.pb.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

class Export : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ProcessResult run = RunProcess({kCliPath, "run", "--interval-ms", "200", "-o",
                                    dir_->File("leak.rec"), "--",
                                    std::string(kExamplesDir) + "/session_leak",
                                    "--duration-sec", "3"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    recording_ = new heapdrift::Recording(LoadRecording(dir_->File("leak.rec")));
  }
  static void TearDownTestSuite() {
    delete recording_;
    delete dir_;
  }
  // Live bytes summed over every site at the end: what inuse_space must total.
  static int64_t FinalLiveBytes() {
    int64_t total = 0;
    for (const auto& [id, site] : FinalSites(*recording_)) total += std::max<int64_t>(0, site.live_bytes());
    return total;
  }

  static TempDir* dir_;
  static heapdrift::Recording* recording_;
};
TempDir* Export::dir_ = nullptr;
heapdrift::Recording* Export::recording_ = nullptr;

std::string Gunzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  std::string bytes;
  char buffer[65536];
  for (int got; file != nullptr && (got = gzread(file, buffer, sizeof(buffer))) > 0;) {
    bytes.append(buffer, static_cast<size_t>(got));
  }
  if (file != nullptr) gzclose(file);
  return bytes;
}

TEST_F(Export, PprofDecodesWithTheFourHeapSampleTypesAndMatchingTotals) {
  ProcessResult result = RunProcess(
      {kCliPath, "export", dir_->File("leak.rec"), "--format", "pprof", "-o", dir_->File("heap.pb.gz")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  pprof::Profile profile;
  ASSERT_TRUE(profile.ParseFromString(Gunzip(dir_->File("heap.pb.gz"))));
  ASSERT_GT(profile.string_table_size(), 0);
  EXPECT_EQ(profile.string_table(0), "");
  std::vector<std::string> types;
  for (const auto& type : profile.sample_type()) types.push_back(profile.string_table(type.type()));
  EXPECT_EQ(types, (std::vector<std::string>{"alloc_objects", "alloc_space", "inuse_objects",
                                             "inuse_space"}));
  int64_t inuse = 0;
  for (const auto& sample : profile.sample()) {
    ASSERT_EQ(sample.value_size(), 4);
    ASSERT_GT(sample.location_id_size(), 0);
    inuse += sample.value(3);
  }
  EXPECT_EQ(inuse, FinalLiveBytes());
  std::set<uint64_t> location_ids;
  for (const auto& location : profile.location()) {
    EXPECT_NE(location.id(), 0u);
    EXPECT_TRUE(location_ids.insert(location.id()).second);
    EXPECT_GT(location.line_size(), 0);
  }
  EXPECT_EQ(profile.string_table(profile.mapping(0).filename()), recording_->header.executable());
}

TEST_F(Export, GoToolPprofReadsTheProfile) {
  ProcessResult result = RunProcess(
      {kCliPath, "export", dir_->File("leak.rec"), "--format", "pprof", "-o", dir_->File("go.pb.gz")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ProcessResult go = RunProcess({"go", "tool", "pprof", "-top", dir_->File("go.pb.gz")},
                                {{"HOME", dir_->path().string()}}, 180);
  ASSERT_EQ(go.exit_code, 0) << go.err << "\n(install golang-go)";
  EXPECT_NE(go.out.find("Type: inuse_space"), std::string::npos) << go.out;
  EXPECT_NE(go.out.find("shop::SessionStore::CreateSession"), std::string::npos) << go.out;
  ProcessResult alloc = RunProcess(
      {"go", "tool", "pprof", "-sample_index=alloc_space", "-top", dir_->File("go.pb.gz")},
      {{"HOME", dir_->path().string()}}, 180);
  ASSERT_EQ(alloc.exit_code, 0) << alloc.err;
  EXPECT_NE(alloc.out.find("Type: alloc_space"), std::string::npos);
}

TEST_F(Export, FoldedStacksAreRootFirstAndSumToTheLiveHeap) {
  ProcessResult result = RunProcess(
      {kCliPath, "export", dir_->File("leak.rec"), "--format", "folded", "-o", dir_->File("heap.folded")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::ifstream file(dir_->File("heap.folded"));
  int64_t total = 0;
  bool session = false;
  for (std::string line; std::getline(file, line);) {
    size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    total += std::stoll(line.substr(space + 1));
    std::string stack = line.substr(0, space);
    EXPECT_NE(stack.find(';'), std::string::npos) << "a one-frame stack: " << stack;
    if (stack.find("CreateSession") != std::string::npos) {
      session = true;
      EXPECT_LT(stack.find("ServeRequests"), stack.find("CreateSession")) << "not root first";
    }
  }
  EXPECT_TRUE(session);
  EXPECT_EQ(total, FinalLiveBytes());
}

TEST_F(Export, BadArgumentsAreUsageErrorsAndUnwritableOutputFails) {
  EXPECT_EQ(RunProcess({kCliPath, "export", dir_->File("leak.rec"), "--format", "svg", "-o", "x"})
                .exit_code,
            2);
  ProcessResult unwritable = RunProcess({kCliPath, "export", dir_->File("leak.rec"), "--format",
                                         "pprof", "-o", "/nonexistent-dir/heap.pb.gz"});
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_EQ(LinesStartingWith(unwritable.err, "heapdrift: cannot write").size(), 1u)
      << unwritable.err;
}

}  // namespace
}  // namespace heapdrift::testing
