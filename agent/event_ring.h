// A single-producer single-consumer ring of sample events: the owning host
// thread pushes, the collector drains. Wait-free on both sides; a full ring
// refuses the push and the caller counts the drop, so a slow collector can
// never stall a host thread. Storage comes from the caller (mmap'd pages).
#pragma once

#include <atomic>
#include <cstdint>

namespace heapdrift::agent {

struct SampleEvent {
  enum Kind : uint8_t { kAlloc = 1, kFree = 2 };
  uint32_t stack_id;
  uint8_t kind;
  uint8_t cohort;    // when the block was born (cohorts.h)
  uint16_t session;  // the recording it was sampled in (Agent::session)
  uint64_t size;
  double object_weight;  // 1/p: the sample stands for this many objects
};

class EventRing {
 public:
  // `capacity` must be a power of two; `storage` holds that many events.
  void Init(SampleEvent* storage, uint32_t capacity) {
    events_ = storage;
    mask_ = capacity - 1;
  }

  uint32_t capacity() const { return mask_ + 1; }

  // Producer side. Room for `count` more events right now (the consumer can
  // only make more room, never less). The consumer's index is read again only
  // when the last value read leaves too little room: it lives on a line the
  // consumer writes, so each read is a miss from the other core.
  bool HasRoom(uint32_t count) {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - known_tail_ + count <= capacity()) return true;
    known_tail_ = tail_.load(std::memory_order_acquire);
    return head - known_tail_ + count <= capacity();
  }

  // The slot the next push writes, brought in ahead of it.
  void PrefetchPush() const {
    __builtin_prefetch(&events_[head_.load(std::memory_order_relaxed) & mask_], 1);
  }

  bool TryPush(const SampleEvent& event) {
    if (!HasRoom(1)) return false;
    uint64_t head = head_.load(std::memory_order_relaxed);
    events_[head & mask_] = event;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side: hands every event pushed so far to `consume`, in order.
  template <typename Consume>
  uint64_t Drain(Consume&& consume) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    for (uint64_t i = tail; i != head; ++i) consume(events_[i & mask_]);
    tail_.store(head, std::memory_order_release);
    return head - tail;
  }

  bool Empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  // Producer and consumer indices on their own cache lines: no false sharing.
  alignas(64) std::atomic<uint64_t> head_{0};
  // The producer's last read of tail_: never ahead of it (tail_ only grows;
  // a ring reset to zero makes head_ - known_tail_ wrap to "no room", which
  // reads tail_ again).
  uint64_t known_tail_ = 0;
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) SampleEvent* events_ = nullptr;
  uint32_t mask_ = 0;
};

}  // namespace heapdrift::agent
