#include "ring_pool.h"

#include <new>

#include "page_arena.h"

namespace heapdrift::agent {

bool RingPool::Init(uint32_t max_rings, uint32_t events_per_ring) {
  size_t ring_bytes = sizeof(EventRing) * max_rings;
  size_t state_bytes = sizeof(std::atomic<uint32_t>) * max_rings;
  size_t event_bytes = sizeof(SampleEvent) * size_t{events_per_ring} * max_rings;
  auto* memory = static_cast<char*>(MapPages(ring_bytes + state_bytes + event_bytes));
  if (memory == nullptr) return false;
  rings_ = reinterpret_cast<EventRing*>(memory);
  states_ = reinterpret_cast<std::atomic<uint32_t>*>(memory + ring_bytes);
  events_ = reinterpret_cast<SampleEvent*>(memory + ring_bytes + state_bytes);
  events_per_ring_ = events_per_ring;
  // Rings are built when taken (Acquire), so a short-lived process touches
  // only the pages of the rings its threads use: every program a followed
  // script runs starts the agent.
  for (uint32_t i = 0; i < max_rings; ++i) new (&states_[i]) std::atomic<uint32_t>(kFree);
  count_ = max_rings;
  return true;
}

EventRing* RingPool::Acquire() {
  for (uint32_t i = 0; i < count_; ++i) {
    uint32_t expected = kFree;
    if (states_[i].load(std::memory_order_relaxed) == kFree &&
        states_[i].compare_exchange_strong(expected, kBuilding, std::memory_order_acquire)) {
      // The collector touches neither a free nor a building ring, and its
      // last drain of a recycled one happened before it freed the slot
      // (release, acquired by the exchange): building the ring afresh races
      // with nothing, and kOwned publishes it whole.
      new (&rings_[i]) EventRing();
      rings_[i].Init(events_ + size_t{i} * events_per_ring_, events_per_ring_);
      states_[i].store(kOwned, std::memory_order_release);
      return &rings_[i];
    }
  }
  return nullptr;
}

void RingPool::Retire(EventRing* ring) {
  if (ring == nullptr) return;
  states_[ring - rings_].store(kRetired, std::memory_order_release);
}

uint32_t RingPool::rings_in_use() const {
  uint32_t used = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    used += states_[i].load(std::memory_order_relaxed) != kFree;
  }
  return used;
}

}  // namespace heapdrift::agent
