#include "sampler.h"

#include <time.h>

#include "fast_math.h"

namespace heapdrift::agent {

Sampler g_sampler;

namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t SeedForThisThread() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t seed = SplitMix64(reinterpret_cast<uintptr_t>(&tls_state) ^
                             (static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + now.tv_nsec));
  return seed != 0 ? seed : 0x2545f4914f6cdd1dULL;
}

}  // namespace

double NextUniform(uint64_t& rng_state) {
  if (rng_state == 0) rng_state = SeedForThisThread();
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  uint64_t bits = rng_state * 0x2545f4914f6cdd1dULL;
  // Top 53 bits, shifted into (0, 1]: never 0, so log() is finite.
  return (static_cast<double>(bits >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

void Sampler::Configure(uint64_t base_interval_bytes, uint64_t max_samples_per_sec) {
  base_interval_ = base_interval_bytes < 1 ? 1 : base_interval_bytes;
  max_samples_per_sec_ = max_samples_per_sec;
  interval_.store(base_interval_, std::memory_order_relaxed);
}

double Sampler::ObjectWeight(size_t size, uint64_t interval_bytes) {
  if (interval_bytes <= 1) return 1.0;
  double effective = size == 0 ? 1.0 : static_cast<double>(size);
  return 1.0 / OneMinusExpNeg(effective / static_cast<double>(interval_bytes));
}

void Sampler::DrawCountdown(ThreadState& state) {
  if (exact()) {
    // Stays negative after any subtraction, so every allocation is sampled.
    state.bytes_until_sample = -1;
    state.interval_at_draw = 1;
    return;
  }
  uint64_t interval = current_interval();
  double gap = -NaturalLog(NextUniform(state.rng_state)) * static_cast<double>(interval);
  constexpr double kMaxGap = static_cast<double>(int64_t{1} << 62);
  state.bytes_until_sample = static_cast<int64_t>(gap < kMaxGap ? gap : kMaxGap);
  state.interval_at_draw = interval;
}

double Sampler::TakeSample(ThreadState& state, size_t size) {
  uint64_t interval = exact() ? 1 : state.interval_at_draw;
  DrawCountdown(state);
  if (interval == 0) return 0.0;
  return ObjectWeight(size, interval);
}

void Sampler::Adapt(double samples_per_sec) {
  if (exact() || max_samples_per_sec_ == 0) return;
  uint64_t interval = current_interval();
  double budget = static_cast<double>(max_samples_per_sec_);
  if (samples_per_sec > budget) {
    while (samples_per_sec > budget && interval < kMaxIntervalBytes) {
      interval *= 2;
      samples_per_sec /= 2;
    }
    interval_.store(interval, std::memory_order_relaxed);
  } else if (samples_per_sec < budget / 4 && interval / 2 >= base_interval_) {
    interval_.store(interval / 2, std::memory_order_relaxed);
  }
}

void Sampler::BackOff() {
  if (exact()) return;
  uint64_t window = window_.load(std::memory_order_relaxed);
  uint64_t last = backed_off_in_window_.load(std::memory_order_relaxed);
  if (last == window ||
      !backed_off_in_window_.compare_exchange_strong(last, window, std::memory_order_relaxed)) {
    return;
  }
  uint64_t interval = current_interval();
  if (interval < kMaxIntervalBytes) interval_.store(interval * 2, std::memory_order_relaxed);
}

}  // namespace heapdrift::agent
