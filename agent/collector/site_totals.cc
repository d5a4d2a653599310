#include "site_totals.h"

#include "page_arena.h"

namespace heapdrift::agent {

bool SiteTotals::Init(uint32_t max_sites) {
  totals_ = static_cast<SiteTotal*>(MapPages(sizeof(SiteTotal) * max_sites));
  cohorts_ = static_cast<CohortTotals*>(MapPages(sizeof(CohortTotals) * max_sites));
  cohort_changed_ = static_cast<uint16_t*>(MapPages(sizeof(uint16_t) * max_sites));
  changed_ = static_cast<uint32_t*>(MapPages(sizeof(uint32_t) * max_sites));
  changed_flag_ = static_cast<uint8_t*>(MapPages(max_sites));
  max_sites_ = max_sites;
  return totals_ != nullptr && cohorts_ != nullptr && cohort_changed_ != nullptr &&
         changed_ != nullptr && changed_flag_ != nullptr;
}

void SiteTotals::Reset() {
  ZeroPages(totals_, sizeof(SiteTotal) * max_sites_);
  ZeroPages(cohorts_, sizeof(CohortTotals) * max_sites_);
  ZeroPages(cohort_changed_, sizeof(uint16_t) * max_sites_);
  ZeroPages(changed_, sizeof(uint32_t) * max_sites_);
  ZeroPages(changed_flag_, max_sites_);
  changed_count_ = 0;
}

void SiteTotals::MarkChanged(uint32_t id) {
  if (changed_flag_[id]) return;
  changed_flag_[id] = 1;
  changed_[changed_count_++] = id;
}

void SiteTotals::MarkAllChanged(uint32_t site_count) {
  for (uint32_t id = 0; id < site_count && id < max_sites_; ++id) {
    if (totals_[id].allocated_objects == 0) continue;
    cohort_changed_[id] = static_cast<uint16_t>((1u << kCohorts) - 1);
    MarkChanged(id);
  }
}

void SiteTotals::Apply(const SampleEvent& event) {
  if (event.stack_id >= max_sites_) return;
  double bytes = event.object_weight * static_cast<double>(event.size);
  if (event.kind == SampleEvent::kFree) {
    ApplyFree(event.stack_id, event.object_weight, bytes);
    ApplyCohortFree(event.stack_id, event.cohort, bytes);
    return;
  }
  ApplyAllocation(event.stack_id, event.object_weight, bytes, event.cohort);
}

void SiteTotals::ApplyAllocation(uint32_t stack_id, double objects, double bytes,
                                 uint32_t cohort) {
  if (stack_id >= max_sites_) return;
  SiteTotal& total = totals_[stack_id];
  total.live_objects += objects;
  total.live_bytes += bytes;
  total.allocated_objects += objects;
  total.allocated_bytes += bytes;
  cohort %= kCohorts;
  cohorts_[stack_id].live_bytes[cohort] += bytes;
  cohort_changed_[stack_id] = static_cast<uint16_t>(cohort_changed_[stack_id] | (1u << cohort));
  MarkChanged(stack_id);
}

void SiteTotals::ApplyCohortFree(uint32_t stack_id, uint32_t cohort, double bytes) {
  if (stack_id >= max_sites_) return;
  cohort %= kCohorts;
  cohorts_[stack_id].live_bytes[cohort] -= bytes;
  cohort_changed_[stack_id] = static_cast<uint16_t>(cohort_changed_[stack_id] | (1u << cohort));
  MarkChanged(stack_id);
}

void SiteTotals::ApplyFree(uint32_t stack_id, double objects, double bytes) {
  if (stack_id >= max_sites_) return;
  SiteTotal& total = totals_[stack_id];
  total.live_objects -= objects;
  total.live_bytes -= bytes;
  MarkChanged(stack_id);
}

}  // namespace heapdrift::agent
