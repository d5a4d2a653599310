#include "address_filter.h"

#include <gtest/gtest.h>

#include <memory>

namespace heapdrift::agent {
namespace {

// 256 buckets (the hash's top 8 bits), a coarse bit per 4 of them.
using Filter = AddressFilter<8, 4>;

constexpr uint64_t InBucket(uint64_t bucket, uint64_t low = 0) { return (bucket << 56) | low; }

TEST(AddressFilter, ABitIsSetWhileItsBucketCountsALiveSample) {
  auto filter = std::make_unique<Filter>();
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

// A coarse bit is set while any of its 4 buckets counts a sample.
TEST(AddressFilter, ACoarseBitSummarisesItsFourBuckets) {
  auto filter = std::make_unique<Filter>();
  filter->Add(InBucket(5));
  filter->Add(InBucket(6));
  for (uint64_t bucket = 4; bucket < 8; ++bucket) {
    EXPECT_TRUE(filter->MaybeContainsCoarse(InBucket(bucket))) << bucket;
  }
  EXPECT_FALSE(filter->MaybeContainsCoarse(InBucket(3)));
  EXPECT_FALSE(filter->MaybeContainsCoarse(InBucket(8)));
  filter->Remove(InBucket(5));
  EXPECT_FALSE(filter->MaybeContains(InBucket(5)));
  EXPECT_TRUE(filter->MaybeContainsCoarse(InBucket(5)));  // bucket 6 still counts
  filter->Remove(InBucket(6));
  EXPECT_FALSE(filter->MaybeContainsCoarse(InBucket(6)));
}

// A counter that reached its limit no longer knows its count: it stays
// "maybe" for good rather than ever clear a live sample's bit.
TEST(AddressFilter, ASaturatedCounterErrsTowardsMaybe) {
  auto filter = std::make_unique<Filter>();
  for (int i = 0; i < 300; ++i) filter->Add(InBucket(3));
  for (int i = 0; i < 300; ++i) filter->Remove(InBucket(3));
  EXPECT_TRUE(filter->MaybeContains(InBucket(3)));
  EXPECT_TRUE(filter->MaybeContainsCoarse(InBucket(3)));
}

TEST(AddressFilter, RebuildBitsFollowsTheCounters) {
  auto filter = std::make_unique<Filter>();
  filter->Add(InBucket(200));
  filter->Add(InBucket(5));
  filter->Remove(InBucket(5));
  filter->RebuildBits();
  EXPECT_TRUE(filter->MaybeContains(InBucket(200)));
  EXPECT_TRUE(filter->MaybeContainsCoarse(InBucket(201)));
  EXPECT_FALSE(filter->MaybeContains(InBucket(5)));
  EXPECT_FALSE(filter->MaybeContainsCoarse(InBucket(5)));
}

}  // namespace
}  // namespace heapdrift::agent
