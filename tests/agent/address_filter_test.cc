#include "address_filter.h"

#include <gtest/gtest.h>

#include <memory>

namespace heapdrift::agent {
namespace {

// Hashes whose top 8 bits (a filter of 256 buckets) are `bucket`.
constexpr uint64_t InBucket(uint64_t bucket, uint64_t low = 0) { return (bucket << 56) | low; }

TEST(AddressFilter, ABitIsSetWhileItsBucketCountsALiveSample) {
  auto filter = std::make_unique<AddressFilter<8, uint8_t>>();
  EXPECT_FALSE(filter->MaybeContains(InBucket(7)));
  filter->Add(InBucket(7, 1));
  filter->Add(InBucket(7, 2));
  EXPECT_TRUE(filter->MaybeContains(InBucket(7, 3)));  // same bucket: "maybe"
  EXPECT_FALSE(filter->MaybeContains(InBucket(8)));
  filter->Remove(InBucket(7, 1));
  EXPECT_TRUE(filter->MaybeContains(InBucket(7, 2)));  // one still counted
  filter->Remove(InBucket(7, 2));
  EXPECT_FALSE(filter->MaybeContains(InBucket(7, 2)));
  filter->Remove(InBucket(7, 2));  // an extra remove does not wrap the count
  filter->Add(InBucket(7));
  EXPECT_TRUE(filter->MaybeContains(InBucket(7)));
}

// A byte counter that reached its limit no longer knows its count: it stays
// "maybe" for good rather than ever clear a live sample's bit.
TEST(AddressFilter, ASaturatedCounterErrsTowardsMaybe) {
  auto bytes = std::make_unique<AddressFilter<8, uint8_t>>();
  auto words = std::make_unique<AddressFilter<8, uint32_t>>();
  for (int i = 0; i < 300; ++i) {
    bytes->Add(InBucket(3));
    words->Add(InBucket(3));
  }
  for (int i = 0; i < 300; ++i) {
    bytes->Remove(InBucket(3));
    words->Remove(InBucket(3));
  }
  EXPECT_TRUE(bytes->MaybeContains(InBucket(3)));
  EXPECT_FALSE(words->MaybeContains(InBucket(3)));  // 32-bit counts come back to zero
}

TEST(AddressFilter, RebuildBitsFollowsTheCounters) {
  auto filter = std::make_unique<AddressFilter<8, uint8_t>>();
  filter->Add(InBucket(200));
  filter->Add(InBucket(5));
  filter->Remove(InBucket(5));
  filter->RebuildBits();
  EXPECT_TRUE(filter->MaybeContains(InBucket(200)));
  EXPECT_FALSE(filter->MaybeContains(InBucket(5)));
}

}  // namespace
}  // namespace heapdrift::agent
