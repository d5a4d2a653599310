// Per-call-site sums kept by the collector: estimated live and cumulative
// allocated bytes and objects for every stack id, the same bytes by cohort
// (when they were born, cohorts.h), plus the list of sites that changed since
// the last snapshot. Collector thread only; mmap'd, bounded by the stack
// table's capacity; a site's cohort pages are touched only once it has samples.
#pragma once

#include <cstdint>

#include "cohorts.h"
#include "event_ring.h"

namespace heapdrift::agent {

struct SiteTotal {
  double live_bytes;
  double live_objects;
  double allocated_bytes;
  double allocated_objects;
};

// Live bytes only: what each cohort allocated follows from the site's
// cumulative allocations across the cohort's birth window, which readers
// have already (half the memory per site).
struct CohortTotals {
  double live_bytes[kCohorts];
};

class SiteTotals {
 public:
  bool Init(uint32_t max_sites);
  // Back to nothing, for a new recording (a woken agent's).
  void Reset();

  void Apply(const SampleEvent& event);
  void ApplyAllocation(uint32_t stack_id, double objects, double bytes, uint32_t cohort);
  // A free's bytes count against the site and against the cohort the block
  // was born in; a spilled free reaches the two separately (Collector::TakeSpilledFrees).
  void ApplyFree(uint32_t stack_id, double objects, double bytes);
  void ApplyCohortFree(uint32_t stack_id, uint32_t cohort, double bytes);

  // Visits the sites changed since the last call, with their cohorts and a
  // mask of the cohorts that changed, then forgets they changed.
  template <typename Visit>
  void TakeChanged(Visit&& visit) {
    for (uint32_t i = 0; i < changed_count_; ++i) {
      uint32_t id = changed_[i];
      changed_flag_[id] = 0;
      visit(id, totals_[id], cohorts_[id], cohort_changed_[id]);
      cohort_changed_[id] = 0;
    }
    changed_count_ = 0;
  }

  // Every site with samples, with all its cohorts, changes: the next
  // snapshot carries the whole state (a new receiver's first).
  void MarkAllChanged(uint32_t site_count);

  uint32_t changed_count() const { return changed_count_; }
  const SiteTotal& Get(uint32_t id) const { return totals_[id]; }

 private:
  void MarkChanged(uint32_t id);

  SiteTotal* totals_ = nullptr;
  CohortTotals* cohorts_ = nullptr;
  uint16_t* cohort_changed_ = nullptr;  // bit k: cohort k changed
  static_assert(kCohorts <= 16);
  uint32_t* changed_ = nullptr;
  uint8_t* changed_flag_ = nullptr;
  uint32_t changed_count_ = 0;
  uint32_t max_sites_ = 0;
};

}  // namespace heapdrift::agent
