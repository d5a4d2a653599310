// The fixed set of per-thread rings. A host thread takes a free ring on its
// first sample and hands it back at exit ("retired"); the collector drains
// retired rings to empty before they are reused, so nothing a thread buffered
// is lost when it exits. Bounded: at most `max_rings` threads hold a ring at
// once; samples on further threads are dropped and counted.
//
// Thread safety: Acquire/Retire from any thread (lock-free CAS on slot state);
// ForEachRing/Recycle from the collector only. Never allocates.
#pragma once

#include <atomic>
#include <cstdint>

#include "event_ring.h"

namespace heapdrift::agent {

class RingPool {
 public:
  bool Init(uint32_t max_rings, uint32_t events_per_ring);

  EventRing* Acquire();
  void Retire(EventRing* ring);

  // Collector: drains every ring, then frees retired rings that are empty.
  template <typename Consume>
  void DrainAll(Consume&& consume) {
    for (uint32_t i = 0; i < count_; ++i) {
      uint32_t state = states_[i].load(std::memory_order_acquire);
      if (state == kFree || state == kBuilding) continue;
      rings_[i].Drain(consume);
      // Retire() is the owner's last touch and release-ordered: seeing kRetired
      // means the drain above saw every event, so the ring can be reused.
      if (state == kRetired) states_[i].store(kFree, std::memory_order_release);
    }
  }

  uint32_t rings_in_use() const;

 private:
  enum : uint32_t { kFree = 0, kOwned = 1, kRetired = 2, kBuilding = 3 };
  EventRing* rings_ = nullptr;
  std::atomic<uint32_t>* states_ = nullptr;
  SampleEvent* events_ = nullptr;
  uint32_t events_per_ring_ = 0;
  uint32_t count_ = 0;
};

}  // namespace heapdrift::agent
