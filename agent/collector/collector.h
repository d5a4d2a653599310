// The collector thread: the only consumer of the per-thread rings and the only
// writer of the recording. Every 20 ms (160 ms when quiet) it drains the
// rings into per-site totals and, every snapshot interval, encodes a snapshot
// and writes it to the sink. It also steers the adaptive sampling interval.
//
// Host threads never wait for it: they only push to their own ring. The exit
// path (Finish) takes its lock with a timeout and writes the final snapshot.
// The thread runs with every signal blocked and permanently marked in-agent,
// so its own allocations are never sampled.
#pragma once

#include <pthread.h>

#include <cstdint>

#include "byte_buffer.h"
#include "leak_scan.h"
#include "options.h"
#include "process_memory.h"
#include "sink.h"
#include "site_totals.h"

namespace heapdrift::agent {

class Collector {
 public:
  // Reserves the collector's tables; once, before Start or the first session.
  bool Prepare(const Options& options);

  // Opens the sink, writes the header and starts the thread. On failure the
  // reason has been logged and nothing is left running.
  bool Start(const Options& options);

  // A dormant agent's recordings run on its control thread, one per wake:
  // BeginSession starts a recording from nothing, to `options.output` when it
  // names a receiver, else to `connection` (adopted: the sink closes it);
  // RunSession collects until `control` says stop or closes (or the process
  // exits), writes the final snapshot and puts the agent back to sleep.
  bool BeginSession(const Options& options, int connection);
  void RunSession(int control);

  // Drains, writes the final snapshot and stops writing. Called at exit.
  void Finish();

  // In a forked child: lets go of the parent's recording without touching
  // anything the parent's collector thread may have been changing mid-fork.
  void LeaveParentsRecording() { sink_.Close(); }

 private:
  static void* ThreadMain(void* self);
  bool BeginRecording(const Options& options);
  // Waits `pause_ns`: asleep, or watching `control` (>= 0) for the end of a
  // session. False when the session is to end.
  bool Pause(uint64_t pause_ns, int control);
  void Run(int control);
  void Drain();
  // Take the spilled counts out of the stack records: into the totals, or
  // (apply = false) away.
  void TakeSpilledFrees(bool apply);
  void TakeSpilledAllocations(bool apply);
  double AdaptInterval(uint64_t now_ns);
  uint64_t samples() const;
  bool WriteSnapshot(uint64_t now_ns, bool final, const LeakScanResult* leaks = nullptr);
  bool WriteHeader(const Options& options);
  // HEAPDRIFT_RECONNECT: the receiver is gone; try again after a backoff.
  void Disconnected(uint64_t now_ns, bool say);
  bool Reconnect(uint64_t now_ns);

  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
  bool finished_ = false;
  Sink sink_;
  ByteBuffer buffer_;
  SiteTotals totals_;
  uint32_t stacks_emitted_ = 0;
  uint64_t sequence_ = 0;
  uint64_t interval_ns_ = 0;
  uint64_t next_snapshot_ns_ = 0;
  uint64_t last_drain_ns_ = 0;
  uint64_t attempts_at_last_drain_ = 0;
  // Allocation events of this recording drained from the rings; with the
  // spilled ones, the samples taken.
  uint64_t samples_drained_ = 0;
  uint64_t last_adapt_ns_ = 0;
  uint64_t attempts_at_last_adapt_ = 0;
  // The recording's start as its header says, kept across reconnections so
  // that the next receiver sees the same recording continue.
  uint64_t header_realtime_ns_ = 0;
  uint64_t header_clock_ns_ = 0;
  bool reconnects_ = false;
  bool connected_ = true;
  bool said_disconnected_ = false;
  uint64_t reconnect_at_ns_ = 0;
  uint64_t reconnect_backoff_ns_ = 0;
  ProcessMemoryReader memory_reader_;
  bool leak_scan_ = false;
  uint32_t max_stacks_ = 0;
  char executable_[4096] = "";
};

extern Collector g_collector;

uint64_t MonotonicNowNs();

}  // namespace heapdrift::agent
