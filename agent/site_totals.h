// Per-call-site sums kept by the collector: estimated live and cumulative
// allocated bytes and objects for every stack id, plus the list of sites that
// changed since the last snapshot. Collector thread only; mmap'd, bounded by
// the stack table's capacity.
#pragma once

#include <cstdint>

#include "event_ring.h"

namespace heapdrift::agent {

struct SiteTotal {
  double live_bytes;
  double live_objects;
  double allocated_bytes;
  double allocated_objects;
};

class SiteTotals {
 public:
  bool Init(uint32_t max_sites);

  void Apply(const SampleEvent& event);
  void ApplyAllocation(uint32_t stack_id, double objects, double bytes);
  void ApplyFree(uint32_t stack_id, double objects, double bytes);

  // Visits the sites changed since the last call, then forgets they changed.
  template <typename Visit>
  void TakeChanged(Visit&& visit) {
    for (uint32_t i = 0; i < changed_count_; ++i) {
      uint32_t id = changed_[i];
      changed_flag_[id] = 0;
      visit(id, totals_[id]);
    }
    changed_count_ = 0;
  }

  uint32_t changed_count() const { return changed_count_; }
  const SiteTotal& Get(uint32_t id) const { return totals_[id]; }

 private:
  void MarkChanged(uint32_t id);

  SiteTotal* totals_ = nullptr;
  uint32_t* changed_ = nullptr;
  uint8_t* changed_flag_ = nullptr;
  uint32_t changed_count_ = 0;
  uint32_t max_sites_ = 0;
};

}  // namespace heapdrift::agent
