// A GoogleTest binary whose tests all pass, one of which leaks: the leak
// check, not the tests, must fail it, and name the leaking test.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

struct CacheEntry {
  std::string key;
  std::vector<int> values;
};

TEST(Cache, KeepsEntriesInAVector) {
  std::vector<std::unique_ptr<CacheEntry>> cache;
  cache.push_back(std::make_unique<CacheEntry>(CacheEntry{"a", {1, 2, 3}}));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(Cache, ForgetsAnEntry) {
  auto* entry = new CacheEntry{"forgotten", {4, 5, 6}};
  EXPECT_EQ(entry->values.size(), 3u);
  entry = nullptr;  // the leak: the entry and its vector are never freed
}

TEST(Cache, StringsAreFreed) {
  std::string text(1000, 'x');
  EXPECT_EQ(text.size(), 1000u);
}

}  // namespace
