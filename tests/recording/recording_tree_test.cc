// How report, inspect and run find the recordings of a process tree: by the
// agent's file names and each header's root pid, never a stale file of an
// earlier tree or another program's file.
#include "recording_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace heapdrift {
namespace {

namespace fs = std::filesystem;

class RecordingTree : public ::testing::Test {
 protected:
  RecordingTree() {
    std::string pattern = (fs::temp_directory_path() / "heapdrift-tree-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  ~RecordingTree() override { fs::remove_all(dir_); }

  // A recording with a header only, as the agent frames it.
  proto::Header Write(const std::string& name, uint32_t pid, uint32_t root_pid, uint64_t ticks) {
    proto::Header header;
    header.set_magic("heapdrift-recording");
    header.set_format_version(1);
    header.set_pid(pid);
    header.set_root_pid(root_pid);
    header.set_process_start_ticks(ticks);
    header.add_command_line("prog" + std::to_string(pid));
    std::string bytes = header.SerializeAsString();
    std::ofstream(dir_ / name, std::ios::binary) << static_cast<char>(bytes.size()) << bytes;
    return header;
  }

  std::vector<std::string> Found(const std::string& first_name, const proto::Header& first) {
    std::vector<std::string> names;
    for (const TreeMember& member : FindLaterRecordings((dir_ / first_name).string(), first)) {
      names.push_back(fs::path(member.path).filename().string());
    }
    return names;
  }

  fs::path dir_;
};

TEST_F(RecordingTree, FindsTheTreesFilesByNameAndRootPid) {
  proto::Header first = Write("x.rec", 100, 100, 50);
  Write("x.rec.101", 101, 100, 60);
  Write("x.rec.100", 100, 100, 70);    // the first process, after an exec
  Write("x.rec.102.1", 102, 100, 55);  // x.rec.102 was taken
  Write("x.rec.103", 103, 999, 60);    // another tree's
  Write("x.rec.104", 104, 100, 40);    // started before the first process: an earlier tree's
  Write("x.rec.bak", 105, 100, 60);
  Write("y.rec.106", 106, 100, 60);
  std::ofstream(dir_ / "x.rec.107") << "not a recording";
  EXPECT_EQ(Found("x.rec", first),
            (std::vector<std::string>{"x.rec.102.1", "x.rec.101", "x.rec.100"}));
}

TEST_F(RecordingTree, FindsFilesNamedByThePidPattern) {
  proto::Header first = Write("heapdrift-100.rec", 100, 100, 50);
  Write("heapdrift-101.rec", 101, 100, 60);
  Write("heapdrift-102.rec.1", 102, 100, 61);
  Write("heapdrift-103.rec", 103, 7, 62);
  Write("heapdrift-x.rec", 104, 100, 63);
  EXPECT_EQ(Found("heapdrift-100.rec", first),
            (std::vector<std::string>{"heapdrift-101.rec", "heapdrift-102.rec.1"}));
}

TEST_F(RecordingTree, OnlyTheFirstProcessHasATree) {
  Write("x.rec", 100, 100, 50);
  proto::Header child = Write("x.rec.101", 101, 100, 60);
  Write("x.rec.101.1", 102, 100, 61);
  EXPECT_TRUE(Found("x.rec.101", child).empty());
  // Recordings from before root_pid existed are trees of one.
  proto::Header old = Write("old.rec", 200, 0, 0);
  Write("old.rec.201", 201, 0, 0);
  EXPECT_TRUE(Found("old.rec", old).empty());
}

TEST_F(RecordingTree, ARelativePathGivesRelativePaths) {
  proto::Header first = Write("x.rec", 100, 100, 50);
  Write("x.rec.101", 101, 100, 60);
  fs::path previous = fs::current_path();
  fs::current_path(dir_);
  std::vector<TreeMember> members = FindLaterRecordings("x.rec", first);
  fs::current_path(previous);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].path, "x.rec.101");
  EXPECT_EQ(DescribeProcess(members[0].header), "pid 101 (prog101)");
}

}  // namespace
}  // namespace heapdrift
