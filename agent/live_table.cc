#include "live_table.h"

#include <iterator>

#include "page_arena.h"

namespace heapdrift::agent {

constinit LiveTable g_live_table;

bool LiveTable::Init(uint32_t capacity) {
  uint32_t buckets = 1;
  while (buckets * kBucketSlots < capacity) buckets <<= 1;
  buckets_ = static_cast<Bucket*>(MapPages(sizeof(Bucket) * buckets));
  values_ = static_cast<LiveBlock*>(MapPages(sizeof(LiveBlock) * buckets * kBucketSlots));
  overflowed_ = static_cast<std::atomic<uint8_t>*>(MapPages(buckets));
  if (buckets_ == nullptr || values_ == nullptr || overflowed_ == nullptr) return false;
  bucket_mask_ = buckets - 1;
  // One page of keys to start with.
  constexpr uint32_t kFirstBuckets = 4096 / sizeof(Bucket);
  first_home_mask_ = (buckets < kFirstBuckets ? buckets : kFirstBuckets) - 1;
  home_mask_.store(first_home_mask_, std::memory_order_release);
  return true;
}

bool LiveTable::Grow(uint32_t mask) {
  if (mask >= bucket_mask_) return false;
  // Another thread may have grown it already: either way it is larger now.
  home_mask_.compare_exchange_strong(mask, mask * 2 + 1, std::memory_order_acq_rel);
  return true;
}

void LiveTable::FilterAdd(const void* address) {
  if (filter_choice_.load(std::memory_order_relaxed) == FilterChoice::kNone) {
    filter_choice_.store(FilterChoice::kCoarse, std::memory_order_relaxed);
  }
  filter_.Add(Mix(address));
}

void LiveTable::FilterRemove(const void* address) { filter_.Remove(Mix(address)); }

// Racing inserts and erases may store their choices out of order: the
// filter read may then not be the one that suits the count, until the next
// insert or erase chooses again. It is valid either way.
void LiveTable::ChooseFilter(uint64_t live) {
  FilterChoice choice = filter_choice_.load(std::memory_order_relaxed);
  FilterChoice suited = live > kCoarseMaxLive       ? FilterChoice::kFine
                        : live <= kCoarseMaxLive / 2 ? FilterChoice::kCoarse
                                                     : choice;
  if (suited != choice) filter_choice_.store(suited, std::memory_order_relaxed);
}

uint32_t LiveTable::Find(uintptr_t key, uint32_t home) const {
  uint32_t bucket = home;
  for (uint32_t hop = 0; hop < kMaxHops; ++hop, bucket = (bucket + 1) & bucket_mask_) {
    for (uint32_t slot = 0; slot < kBucketSlots; ++slot) {
      if (buckets_[bucket].keys[slot].load(std::memory_order_acquire) == key) {
        return bucket * kBucketSlots + slot;
      }
    }
    if (overflowed_[bucket].load(std::memory_order_acquire) == 0) break;
  }
  return UINT32_MAX;
}

uint32_t LiveTable::FindAnyHome(uintptr_t key, uint32_t hash) const {
  // A block is looked up only after the program got it from an allocation
  // (a free, a realloc, a reuse of its address): the regions in use when it
  // was inserted were taken before, and this load sees them (or more).
  for (uint32_t mask = home_mask_.load(std::memory_order_acquire);; mask >>= 1) {
    if (uint32_t index = Find(key, HomeIn(mask, hash)); index != UINT32_MAX) return index;
    if (mask <= first_home_mask_) return UINT32_MAX;
  }
}

LiveTable::InsertResult LiveTable::Insert(const void* address, const LiveBlock& block,
                                          LiveBlock* stale) {
  const uintptr_t key = reinterpret_cast<uintptr_t>(address);
  const uint32_t hash = HomeHash(address);
  // A stale key's filter bit is still set (its insert set it, and only its
  // erase could clear it), and the allocator's handing the address back
  // orders that insert before this one: a clear bit, the common case, means
  // no stale key, without a lookup in every region.
  if (uint32_t index = MaybeContains(address) ? FindAnyHome(key, hash) : UINT32_MAX;
      index != UINT32_MAX) {
    *stale = values_[index];
    values_[index] = block;
    return InsertResult::kReplacedStale;
  }
  for (;;) {
    uint32_t mask = home_mask_.load(std::memory_order_acquire);
    // Half full: homes spread over twice the buckets from now on.
    if (live_count_.load(std::memory_order_relaxed) >= (uint64_t{mask} + 1) * kBucketSlots / 2 &&
        Grow(mask)) {
      continue;
    }
    // The newest region, then the older ones (their pages are touched
    // already), then a new region.
    for (uint32_t region = mask;; region >>= 1) {
      if (InsertFrom(HomeIn(region, hash), key, address, block)) return InsertResult::kInserted;
      if (region <= first_home_mask_) break;
    }
    if (!Grow(mask)) return InsertResult::kFull;
  }
}

bool LiveTable::InsertFrom(uint32_t home, uintptr_t key, const void* address,
                           const LiveBlock& block) {
  uint32_t bucket = home;
  for (uint32_t hop = 0; hop < kMaxHops; ++hop, bucket = (bucket + 1) & bucket_mask_) {
    for (uint32_t slot = 0; slot < kBucketSlots; ++slot) {
      std::atomic<uintptr_t>& slot_key = buckets_[bucket].keys[slot];
      uintptr_t current = slot_key.load(std::memory_order_relaxed);
      if (current != kEmpty ||
          !slot_key.compare_exchange_strong(current, key, std::memory_order_acq_rel)) {
        continue;
      }
      // The slot is ours: no one reads its value until the block is handed to
      // the program, which happens after this returns.
      values_[bucket * kBucketSlots + slot] = block;
      FilterAdd(address);
      ChooseFilter(live_count_.fetch_add(1, std::memory_order_relaxed) + 1);
      return true;
    }
    // Full: lookups starting here must go on to the next bucket from now on.
    overflowed_[bucket].store(1, std::memory_order_release);
  }
  return false;
}

bool LiveTable::Erase(const void* address, LiveBlock* erased) {
  const uintptr_t key = reinterpret_cast<uintptr_t>(address);
  uint32_t index = FindAnyHome(key, HomeHash(address));
  if (index == UINT32_MAX) return false;
  // Read the value before giving the slot up: once it is empty an insert for
  // another address may overwrite it.
  LiveBlock block = values_[index];
  uintptr_t expected = key;
  if (!buckets_[index / kBucketSlots].keys[index % kBucketSlots].compare_exchange_strong(
          expected, kEmpty, std::memory_order_acq_rel)) {
    return false;  // a concurrent double free of the same block: the first one wins
  }
  *erased = block;
  FilterRemove(address);
  ChooseFilter(live_count_.fetch_sub(1, std::memory_order_relaxed) - 1);
  return true;
}

void LiveTable::AdoptAfterFork() {
  filter_.RebuildBits();
}

void LiveTable::EraseOtherSessions(uint16_t session) {
  for (uint32_t index = 0; index < UsedSlots(); ++index) {
    std::atomic<uintptr_t>& slot_key = buckets_[index / kBucketSlots].keys[index % kBucketSlots];
    uintptr_t key = slot_key.load(std::memory_order_acquire);
    if (key == kEmpty || values_[index].session == session) continue;
    if (!slot_key.compare_exchange_strong(key, kEmpty, std::memory_order_acq_rel)) continue;
    FilterRemove(reinterpret_cast<const void*>(key));
    ChooseFilter(live_count_.fetch_sub(1, std::memory_order_relaxed) - 1);
  }
}

}  // namespace heapdrift::agent
