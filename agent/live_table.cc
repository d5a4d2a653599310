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

// A saturated counter stays at 255 forever: the filter then only ever errs
// towards "maybe", which costs a table lookup, never a missed free.
void LiveTable::FilterAdd(const void* address) {
  if (!armed_.load(std::memory_order_relaxed)) armed_.store(true, std::memory_order_relaxed);
  uint32_t index = FilterIndex(address);
  std::atomic<uint8_t>& counter = filter_[index];
  uint8_t value = counter.load(std::memory_order_relaxed);
  while (value != 255 && !counter.compare_exchange_weak(value, value + 1)) {
  }
  // Every free on every thread reads this word: write it only to change it.
  // A bit seen set may be cleared next by a FilterRemove whose count went to
  // zero before the increment above; that remove then reads the counter
  // again (all seq_cst: after this increment) and sets the bit back.
  uint64_t bit = uint64_t{1} << (index % 64);
  if ((filter_bits_[index / 64].load() & bit) == 0) filter_bits_[index / 64].fetch_or(bit);
}

// Clearing the bit races with a FilterAdd of the same index on another
// thread: after clearing, the counter is read again and the bit restored if
// an add came in between (all seq_cst), so a live block's bit is never left
// clear.
void LiveTable::FilterRemove(const void* address) {
  uint32_t index = FilterIndex(address);
  std::atomic<uint8_t>& counter = filter_[index];
  uint8_t value = counter.load(std::memory_order_relaxed);
  while (value != 255 && value != 0 && !counter.compare_exchange_weak(value, value - 1)) {
  }
  if (value != 1) return;  // still counted (or saturated, or was empty)
  uint64_t bit = uint64_t{1} << (index % 64);
  filter_bits_[index / 64].fetch_and(~bit);
  if (counter.load() != 0) filter_bits_[index / 64].fetch_or(bit);
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
      live_count_.fetch_add(1, std::memory_order_relaxed);
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
  live_count_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void LiveTable::AdoptAfterFork() {
  for (size_t word = 0; word < std::size(filter_bits_); ++word) {
    uint64_t bits = 0;
    for (size_t bit = 0; bit < 64; ++bit) {
      if (filter_[word * 64 + bit].load(std::memory_order_relaxed) != 0) bits |= uint64_t{1} << bit;
    }
    filter_bits_[word].store(bits, std::memory_order_relaxed);
  }
}

void LiveTable::EraseOtherSessions(uint16_t session) {
  for (uint32_t index = 0; index < UsedSlots(); ++index) {
    std::atomic<uintptr_t>& slot_key = buckets_[index / kBucketSlots].keys[index % kBucketSlots];
    uintptr_t key = slot_key.load(std::memory_order_acquire);
    if (key == kEmpty || values_[index].session == session) continue;
    if (!slot_key.compare_exchange_strong(key, kEmpty, std::memory_order_acq_rel)) continue;
    FilterRemove(reinterpret_cast<const void*>(key));
    live_count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace heapdrift::agent
