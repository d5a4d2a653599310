// The recent past of a process that is still streaming (heapdrift serve):
// its snapshots over the last `window_seconds`, thinned to at most
// `max_points`, as a Recording that the analyses read like any other; and
// its whole state as of the last snapshot, which starts each segment on disk
// (segments.h). Memory is bounded by max_points times the call sites that
// change per snapshot, plus one entry per call site, whatever the process's
// age; so is the cost of analysing the window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>

#include "recording.h"

namespace heapdrift {

class RecordingWindow {
 public:
  RecordingWindow(const proto::Header& header, double window_seconds, size_t max_points);

  // Adds the next snapshot of the stream (incremental, as the agent writes
  // it). False, changing nothing, if it breaks the format's limits.
  bool Add(proto::Snapshot snapshot);

  // The window as a recording: a first snapshot with every call site's values
  // at the window's start, then what changed in each later one; numbered from
  // 0, without cohorts (they count from the process's first snapshot, which
  // the window no longer holds). Snapshots are rebuilt by each call; the
  // header, stacks and mappings only grow, so a CallSiteResolver made on the
  // returned recording stays valid.
  const Recording& Materialize();

  // The last snapshot added, made whole: every call site with its cohorts,
  // every stack and mapping seen. Empty (no sites) before the first.
  proto::Snapshot WholeState() const;

  const proto::Header& header() const { return header_; }
  size_t snapshots_seen() const { return snapshots_seen_; }
  // The last snapshot added, as sent (its sites only those that changed).
  const proto::Snapshot& latest() const { return latest_; }
  size_t call_sites() const { return current_.size(); }

 private:
  void FoldOldest();
  void ThinOnce();

  proto::Header header_;
  double window_ns_;
  size_t max_points_;
  size_t snapshots_seen_ = 0;
  Recording view_;
  std::map<uint32_t, proto::CallSite> current_;  // every site, with cohorts
  std::map<uint32_t, proto::CallSite> base_;     // every site at the window's start
  proto::Snapshot base_snapshot_;                // its time, memory and stats (no sites)
  std::deque<proto::Snapshot> recent_;           // after the start: what changed
  proto::Snapshot latest_;
};

}  // namespace heapdrift
