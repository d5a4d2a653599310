// Retention over real files: the oldest segments go first, by age and by
// size; a segment being written and a user's files stay.
#include "retention.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <fstream>

#include "segments.h"
#include "temp_dir.h"

namespace heapdrift::serve {
namespace {

void Write(const std::filesystem::path& path, size_t bytes, double modified) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << std::string(bytes, 'x');
  timeval times[2] = {{static_cast<time_t>(modified), 0}, {static_cast<time_t>(modified), 0}};
  utimes(path.c_str(), times);
}

TEST(Retention, DeletesTheOldestUntilTheTotalFitsNeverTheOneBeingWritten) {
  testing::TempDir root;
  auto a = root.path() / "a-1", b = root.path() / "b-2";
  Write(a / SegmentName(1), 1000, 100);
  Write(a / SegmentName(2), 1000, 300);
  Write(b / SegmentName(7), 1000, 200);
  Write(b / SegmentName(8), 1000, 400);  // being written, and the oldest by age below
  Write(a / "notes.txt", 5000, 50);
  RetentionResult result =
      EnforceRetention(root.path(), {1e9, 2500}, {b / SegmentName(8)}, 500);
  EXPECT_EQ(result.deleted_segments, 2u);
  EXPECT_EQ(result.kept_bytes, 2000u);
  EXPECT_FALSE(std::filesystem::exists(a / SegmentName(1)));
  EXPECT_FALSE(std::filesystem::exists(b / SegmentName(7)));
  EXPECT_TRUE(std::filesystem::exists(a / SegmentName(2)));
  EXPECT_TRUE(std::filesystem::exists(a / "notes.txt"));
}

TEST(Retention, AgeLimitEmptiesAndRemovesAProcessDirectory) {
  testing::TempDir root;
  auto old = root.path() / "old-1", user = root.path() / "mine";
  Write(old / SegmentName(1), 10, 100);
  Write(old / SegmentName(2), 10, 150);
  Write(root.path() / "fresh-2" / SegmentName(1), 10, 990);
  std::filesystem::create_directories(user);
  std::ofstream(user / "keep.txt") << "a user's file\n";
  RetentionResult result = EnforceRetention(root.path(), {60, 1 << 30}, {}, 1000);
  EXPECT_EQ(result.deleted_segments, 2u);
  EXPECT_FALSE(std::filesystem::exists(old));
  EXPECT_TRUE(std::filesystem::exists(root.path() / "fresh-2" / SegmentName(1)));
  EXPECT_TRUE(std::filesystem::exists(user / "keep.txt"));
}

}  // namespace
}  // namespace heapdrift::serve
