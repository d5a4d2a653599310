#include "recording_window.h"

#include <limits>
#include <unordered_set>
#include <utility>

namespace heapdrift {
namespace {

// `into` takes `change`'s values; cohorts are merged by index (a snapshot
// carries only the cohorts that changed).
void ApplyChange(proto::CallSite* into, const proto::CallSite& change, bool keep_cohorts) {
  google::protobuf::RepeatedPtrField<proto::Cohort> cohorts;
  if (keep_cohorts) cohorts.Swap(into->mutable_cohorts());
  *into = change;
  into->clear_cohorts();
  if (!keep_cohorts) return;
  for (const proto::Cohort& cohort : change.cohorts()) {
    bool found = false;
    for (proto::Cohort& known : cohorts) {
      if (known.index() == cohort.index()) {
        known.set_live_bytes(cohort.live_bytes());
        found = true;
      }
    }
    if (!found) *cohorts.Add() = cohort;
  }
  into->mutable_cohorts()->Swap(&cohorts);
}

proto::Snapshot WithoutSites(const proto::Snapshot& snapshot) {
  proto::Snapshot copy;
  copy.set_sequence(snapshot.sequence());
  copy.set_time_ns(snapshot.time_ns());
  *copy.mutable_memory() = snapshot.memory();
  *copy.mutable_stats() = snapshot.stats();
  copy.set_final(snapshot.final());
  return copy;
}

}  // namespace

RecordingWindow::RecordingWindow(const proto::Header& header, double window_seconds,
                                 size_t max_points)
    : header_(header),
      window_ns_(window_seconds * 1e9),
      max_points_(max_points < 3 ? 3 : max_points) {
  view_.header = header;
  view_.header.set_cohorts(0);
}

bool RecordingWindow::Add(proto::Snapshot snapshot) {
  if (!WithinFormatLimits(snapshot)) return false;
  for (const proto::Stack& stack : snapshot.stacks()) {
    view_.stacks[stack.id()].assign(stack.frames().begin(), stack.frames().end());
  }
  for (proto::Mapping& mapping : *snapshot.mutable_mappings()) {
    view_.mappings.push_back(std::move(mapping));
  }
  snapshot.clear_stacks();
  snapshot.clear_mappings();
  for (const proto::CallSite& site : snapshot.sites()) {
    ApplyChange(&current_[site.stack_id()], site, true);
  }
  latest_ = snapshot;
  for (proto::CallSite& site : *snapshot.mutable_sites()) site.clear_cohorts();
  if (snapshots_seen_++ == 0) {
    for (const proto::CallSite& site : snapshot.sites()) base_[site.stack_id()] = site;
    base_snapshot_ = WithoutSites(snapshot);
  } else {
    recent_.push_back(std::move(snapshot));
  }
  // The window's start is the newest time minus the window; the base stays
  // at or before it, so the window always spans at least its length.
  double start = static_cast<double>(recent_.empty() ? 0 : recent_.back().time_ns()) - window_ns_;
  while (recent_.size() > 1 && static_cast<double>(recent_.front().time_ns()) <= start) {
    FoldOldest();
  }
  while (recent_.size() + 1 > max_points_) ThinOnce();
  return true;
}

void RecordingWindow::FoldOldest() {
  for (const proto::CallSite& site : recent_.front().sites()) base_[site.stack_id()] = site;
  base_snapshot_ = WithoutSites(recent_.front());
  recent_.pop_front();
}

// Drops the point whose neighbours lie closest together, folding what it
// changed into the next one: the points left stay about evenly spread.
void RecordingWindow::ThinOnce() {
  size_t drop = 0;
  uint64_t narrowest = std::numeric_limits<uint64_t>::max();
  for (size_t i = 0; i + 1 < recent_.size(); ++i) {
    uint64_t before = i == 0 ? base_snapshot_.time_ns() : recent_[i - 1].time_ns();
    uint64_t span = recent_[i + 1].time_ns() - before;
    if (span < narrowest) {
      narrowest = span;
      drop = i;
    }
  }
  proto::Snapshot& next = recent_[drop + 1];
  std::unordered_set<uint32_t> in_next;
  for (const proto::CallSite& site : next.sites()) in_next.insert(site.stack_id());
  for (proto::CallSite& site : *recent_[drop].mutable_sites()) {
    if (!in_next.count(site.stack_id())) *next.add_sites() = std::move(site);
  }
  recent_.erase(recent_.begin() + static_cast<std::ptrdiff_t>(drop));
}

const Recording& RecordingWindow::Materialize() {
  view_.snapshots.clear();
  if (snapshots_seen_ == 0) return view_;
  view_.snapshots.reserve(recent_.size() + 1);
  proto::Snapshot& first = view_.snapshots.emplace_back(base_snapshot_);
  first.set_sequence(0);
  for (const auto& [id, site] : base_) *first.add_sites() = site;
  for (const proto::Snapshot& snapshot : recent_) {
    proto::Snapshot& copy = view_.snapshots.emplace_back(snapshot);
    copy.set_sequence(view_.snapshots.size() - 1);
  }
  return view_;
}

proto::Snapshot RecordingWindow::WholeState() const {
  proto::Snapshot whole = latest_;  // with its leak scan, if it is the exit snapshot
  whole.clear_sites();
  for (const auto& [id, site] : current_) *whole.add_sites() = site;
  for (const auto& [id, frames] : view_.stacks) {
    proto::Stack* stack = whole.add_stacks();
    stack->set_id(id);
    stack->mutable_frames()->Add(frames.begin(), frames.end());
  }
  for (const proto::Mapping& mapping : view_.mappings) *whole.add_mappings() = mapping;
  return whole;
}

}  // namespace heapdrift
