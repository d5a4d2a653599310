#include "event_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ring_pool.h"

namespace heapdrift::agent {
namespace {

TEST(EventRing, RefusesPushesWhenFullAndAcceptsAfterDrain) {
  std::vector<SampleEvent> storage(8);
  EventRing ring;
  ring.Init(storage.data(), 8);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_TRUE(ring.TryPush({i, SampleEvent::kAlloc, 0, 0, i, 1.0}));
  }
  EXPECT_FALSE(ring.HasRoom(1));
  EXPECT_FALSE(ring.TryPush({99, SampleEvent::kAlloc, 0, 0, 0, 1.0}));
  uint32_t expected = 0;
  EXPECT_EQ(ring.Drain([&](const SampleEvent& event) { EXPECT_EQ(event.stack_id, expected++); }),
            8u);
  EXPECT_TRUE(ring.HasRoom(8));
  EXPECT_TRUE(ring.Empty());
}

// One producer, one concurrent consumer: every event that the producer was
// told it pushed arrives exactly once, in order. Run under TSan in CI.
TEST(EventRing, ConcurrentProducerAndConsumerLoseNothingAndKeepOrder) {
  std::vector<SampleEvent> storage(256);
  EventRing ring;
  ring.Init(storage.data(), 256);
  constexpr uint32_t kEvents = 500000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> pushed{0};
  std::thread producer([&] {
    uint32_t next = 0;
    while (next < kEvents) {
      if (ring.TryPush({next, SampleEvent::kAlloc, 0, 0, next, 1.0})) ++next;
    }
    pushed = next;
    done = true;
  });
  uint32_t expected = 0;
  bool in_order = true;
  auto consume = [&](const SampleEvent& event) {
    in_order &= event.stack_id == expected && event.size == expected;
    ++expected;
  };
  while (!done.load()) ring.Drain(consume);
  ring.Drain(consume);
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, pushed.load());
}

TEST(RingPool, RetiredRingsAreDrainedThenReused) {
  RingPool pool;
  ASSERT_TRUE(pool.Init(2, 16));
  EventRing* first = pool.Acquire();
  EventRing* second = pool.Acquire();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(pool.Acquire(), nullptr);  // bounded: a third thread gets none
  ASSERT_TRUE(first->TryPush({7, SampleEvent::kAlloc, 0, 0, 1, 1.0}));
  pool.Retire(first);  // thread exit with an event still buffered
  std::vector<uint32_t> seen;
  pool.DrainAll([&](const SampleEvent& event) { seen.push_back(event.stack_id); });
  EXPECT_EQ(seen, std::vector<uint32_t>{7});
  EXPECT_EQ(pool.Acquire(), first);
  EXPECT_EQ(pool.rings_in_use(), 2u);
}

TEST(RingPool, ThreadsThatExitKeepTheirEventsUnderConcurrency) {
  RingPool pool;
  ASSERT_TRUE(pool.Init(4, 64));
  std::atomic<uint64_t> produced{0};
  std::atomic<bool> stop{false};
  uint64_t consumed = 0;
  std::thread collector([&] {
    while (!stop.load()) pool.DrainAll([&](const SampleEvent&) { ++consumed; });
    pool.DrainAll([&](const SampleEvent&) { ++consumed; });
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&] {
      EventRing* ring = nullptr;
      while ((ring = pool.Acquire()) == nullptr) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        while (!ring->TryPush({1, SampleEvent::kAlloc, 0, 0, 1, 1.0})) std::this_thread::yield();
        ++produced;
      }
      pool.Retire(ring);
    });
    if (threads.size() == 4) {
      for (auto& thread : threads) thread.join();
      threads.clear();
    }
  }
  for (auto& thread : threads) thread.join();
  stop = true;
  collector.join();
  EXPECT_EQ(consumed, produced.load());
}

}  // namespace
}  // namespace heapdrift::agent
