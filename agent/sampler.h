// Poisson sampling by bytes.
//
// Every allocated byte is a sampling point with probability 1/R, so the gap
// between sampling points is exponential with mean R. Each thread counts down
// the bytes to its next point (ThreadState::bytes_until_sample); the hot path
// is one subtraction and a sign test. An allocation of s bytes that contains at
// least one point is sampled; that happens with probability p = 1 - e^(-s/R),
// so the sample stands for 1/p objects and s/p bytes (Horvitz-Thompson), which
// makes every estimate unbiased whatever the size mix.
//
// The interval adapts: R starts at the configured base; the collector raises
// it whenever the process takes more samples per second than its budget (and
// a thread whose ring is full doubles it on the spot), and halves it back
// towards the base when the rate falls. A sample is weighted
// with the R its countdown was drawn with, so estimates stay unbiased across
// changes. R = 1 is exact mode: every allocation sampled with weight 1.
//
// Thread safety: the per-thread part touches only the caller's ThreadState;
// the interval is a relaxed atomic. Never allocates.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "thread_state.h"

namespace heapdrift::agent {

class Sampler {
 public:
  static constexpr uint64_t kMaxIntervalBytes = uint64_t{1} << 32;

  void Configure(uint64_t base_interval_bytes, uint64_t max_samples_per_sec);

  bool exact() const { return base_interval_ == 1; }
  uint64_t base_interval() const { return base_interval_; }
  uint64_t current_interval() const { return interval_.load(std::memory_order_relaxed); }

  // Slow path, when the countdown of `state` went negative on an allocation of
  // `size` bytes. Returns the object weight 1/p of the sample (0 when this was
  // the thread's initial zero countdown, which is not a sample, except in
  // exact mode) and draws the next countdown.
  double TakeSample(ThreadState& state, size_t size);

  // Draws a fresh countdown at the interval now in force.
  void DrawCountdown(ThreadState& state);

  // Called by the collector with the sample rate it observed; moves R: up at
  // once by the power of two the budget needs, down by halves.
  void Adapt(double samples_per_sec);

  bool OverBudget(double samples_per_sec) const {
    return !exact() && max_samples_per_sec_ != 0 &&
           samples_per_sec > static_cast<double>(max_samples_per_sec_);
  }

  // Called by a host thread whose ring is full: doubles R now, without
  // waiting for the collector, but at most once per collector window (a
  // burst of drops would otherwise double it per drop, far past the need).
  void BackOff();
  // The collector opens a new window each time it drains and adapts.
  void StartWindow() { window_.fetch_add(1, std::memory_order_relaxed); }

  // Object weight of a sampled allocation of `size` bytes at interval R.
  static double ObjectWeight(size_t size, uint64_t interval_bytes);

 private:
  uint64_t base_interval_ = 1;
  uint64_t max_samples_per_sec_ = 0;
  std::atomic<uint64_t> interval_{1};
  std::atomic<uint64_t> window_{0};
  std::atomic<uint64_t> backed_off_in_window_{~uint64_t{0}};
};

extern Sampler g_sampler;

// Uniform double in (0, 1] from a per-thread xorshift64* generator.
double NextUniform(uint64_t& rng_state);

}  // namespace heapdrift::agent
