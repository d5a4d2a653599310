#include "collector.h"

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent.h"
#include "control_protocol.h"
#include "exit_caller.h"
#include "got_redirect.h"
#include "live_table.h"
#include "page_arena.h"
#include "leak_scan.h"
#include "raw_log.h"
#include "real_alloc.h"
#include "sampler.h"
#include "snapshot_encoder.h"
#include "thread_state.h"

namespace heapdrift::agent {

constinit Collector g_collector;

namespace {

// Rings are drained every 20 ms while samples flow fast. At up to the
// default budget (2,000/s: at most 320 events a ring in 160 ms, of 2,048)
// the pause doubles up to 160 ms: waking a sleeping thread costs more than
// the drain itself (2 ms of CPU per second at 50 wake-ups/s, measured on an
// idle process). A burst during a long pause is seen at the next drain, which
// raises the interval and returns to 20 ms; a ring it fills meanwhile counts
// the drops and backs the interval off at once, as at any time.
constexpr uint64_t kDrainPeriodNs = 20'000'000;
constexpr uint64_t kQuietDrainPeriodNs = 160'000'000;
constexpr double kQuietSamplesPerSec = 2000;
constexpr uint64_t kAdaptPeriodNs = 200'000'000;
constexpr int kFinishLockTimeoutSec = 2;
// HEAPDRIFT_RECONNECT: the first retry comes after 1 s, each next one
// after twice as long, at most 30 s: a restarting daemon is back within a
// second or two, one that is gone costs a connect() twice a minute.
constexpr uint64_t kFirstReconnectNs = 1'000'000'000;
constexpr uint64_t kLastReconnectNs = 30'000'000'000;

uint64_t ClockNs(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ULL + now.tv_nsec;
}

// /proc/self/cmdline, NUL-separated, into a fixed buffer.
uint32_t ReadCommandLine(char* out, uint32_t size) {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint32_t used = 0;
  for (;;) {
    ssize_t got = read(fd, out + used, size - used);
    if (got <= 0) break;
    used += static_cast<uint32_t>(got);
    if (used == size) break;
  }
  close(fd);
  return used;
}

}  // namespace

uint64_t MonotonicNowNs() { return ClockNs(CLOCK_MONOTONIC); }

bool Collector::WriteHeader(const Options& options) {
  static char command_line[16 * 1024];
  uint32_t command_line_size = ReadCommandLine(command_line, sizeof(command_line));
  HeaderInfo header{static_cast<uint32_t>(getpid()),
                    static_cast<uint32_t>(getppid()),
                    executable_,
                    command_line,
                    command_line_size,
                    options.sample_bytes,
                    options.max_samples_per_sec,
                    header_realtime_ns_,
                    header_clock_ns_,
                    options.interval_ms,
                    options.forked,
                    options.root_pid,
                    options.process.start_ticks,
                    options.attached,
                    options.service};
  buffer_.Clear();
  ProtoWriter writer(&buffer_);
  EncodeHeader(writer, header);
  return writer.ok() && sink_.Write(buffer_.data(), buffer_.size());
}

bool Collector::Prepare(const Options& options) {
  ssize_t length = readlink("/proc/self/exe", executable_, sizeof(executable_) - 1);
  executable_[length > 0 ? length : 0] = '\0';
  if (!totals_.Init(static_cast<uint32_t>(options.max_stacks)) ||
      !g_agent.modules.Init(executable_)) {
    LogLine("cannot reserve memory for the collector; profiling disabled");
    return false;
  }
  memory_reader_.Reset(RealAllocatorIsGlibc());
  max_stacks_ = static_cast<uint32_t>(options.max_stacks);
  return true;
}

bool Collector::BeginRecording(const Options& options) {
  leak_scan_ = options.leak_scan;
  header_realtime_ns_ = ClockNs(CLOCK_REALTIME);
  header_clock_ns_ = MonotonicNowNs();
  interval_ns_ = options.interval_ms * 1'000'000ULL;
  uint64_t now = MonotonicNowNs();
  next_snapshot_ns_ = now + interval_ns_;
  last_adapt_ns_ = last_drain_ns_ = now;
  return WriteHeader(options);
}

bool Collector::Start(const Options& options) {
  if (!Prepare(options)) return false;
  reconnects_ = options.reconnect && options.streams_to_socket();
  if (!sink_.Open(options.output, options.role, options.process,
                  reconnects_ ? Sink::kQuiet : Sink::kLoud)) {
    if (!reconnects_) return false;
    LogLine("no receiver at %s yet (%s); the program continues, heapdrift records from when "
            "one listens", options.output, strerror(errno));
    said_disconnected_ = true;
    BeginRecording(options);
    Disconnected(MonotonicNowNs(), false);
  } else if (!BeginRecording(options)) {
    if (!reconnects_) return false;
    Disconnected(MonotonicNowNs(), true);
  }

  // The thread must never take a signal meant for the host.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  g_agent.collector_tid.store(kThreadNotYetRunning, std::memory_order_relaxed);
  int error = pthread_create(&thread, &attributes, ThreadMain, this);
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) {
    g_agent.collector_tid.store(0, std::memory_order_relaxed);
    LogLine("cannot start the collector thread; profiling disabled");
    return false;
  }
  return true;
}

bool Collector::BeginSession(const Options& options, int connection) {
  pthread_mutex_lock(&mutex_);
  // A new recording: everything it reports is counted from now. The session
  // moves on first, while the agent sleeps: from here a free of an earlier
  // recording's block is dropped by the thread that makes it, events of
  // earlier sessions are skipped by Drain, the spills they left (untagged)
  // are dropped just below, and their blocks leave the table. (Moving it at
  // the end of a recording instead let a thread caught mid-sample by the
  // sleep tag a block with the next session while its allocation was
  // spilled and then dropped here: a free without its allocation.)
  uint32_t session = g_agent.session.fetch_add(1, std::memory_order_acq_rel) + 1;
  g_live_table.EraseOtherSessions(static_cast<uint16_t>(session));
  g_agent.counters.spill_pending.store(false, std::memory_order_release);
  TakeSpilledFrees(false);
  TakeSpilledAllocations(false);
  totals_.Reset();
  g_agent.modules.ResendAll();
  stacks_emitted_ = 0;
  sequence_ = 0;
  g_agent.epoch.store(0, std::memory_order_relaxed);
  AgentCounters& counters = g_agent.counters;
  for (std::atomic<uint64_t>* counter :
       {&counters.dropped_ring_full, &counters.dropped_no_ring,
        &counters.dropped_live_table_full, &counters.dropped_stack_table_full,
        &counters.frees_spilled, &counters.allocations_spilled, &counters.stacks_truncated}) {
    counter->store(0, std::memory_order_relaxed);
  }
  attempts_at_last_drain_ = attempts_at_last_adapt_ = samples_drained_ = 0;
  g_sampler.Configure(options.sample_bytes, options.max_samples_per_sec);
  // Quiet: a session's failures are its peer's to report, never the host's.
  bool opened = options.streams_to_socket()
                    ? sink_.Open(options.output, options.role, options.process, Sink::kQuiet)
                    : sink_.Adopt(connection);
  finished_ = !(opened && BeginRecording(options));
  if (finished_) sink_.Close();
  pthread_mutex_unlock(&mutex_);
  return !finished_;
}

void Collector::RunSession(int control) {
  Run(control);
  g_agent.state.store(AgentState::kDormant, std::memory_order_release);
  pthread_mutex_lock(&mutex_);
  if (!finished_) {
    finished_ = true;
    Drain();
    WriteSnapshot(MonotonicNowNs(), true);
  }
  sink_.Close();
  pthread_mutex_unlock(&mutex_);
}

void* Collector::ThreadMain(void* self) {
  g_agent.collector_tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
  tls_state.in_agent = 1;
  tls_state.bytes_until_sample = INT64_MAX;
  pthread_setname_np(pthread_self(), "heapdrift");
  static_cast<Collector*>(self)->Run(-1);
  return nullptr;
}

bool Collector::Pause(uint64_t pause_ns, int control) {
  if (control < 0) {
    timespec pause{static_cast<time_t>(pause_ns / 1'000'000'000),
                   static_cast<long>(pause_ns % 1'000'000'000)};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
    return true;
  }
  pollfd waiting{control, POLLIN, 0};
  int ready = poll(&waiting, 1, static_cast<int>((pause_ns + 999'999) / 1'000'000));
  if (ready <= 0) return ready == 0 || errno == EINTR;
  char command[64];
  ssize_t got = recv(control, command, sizeof(command), MSG_DONTWAIT);
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  // The peer's end (or its "stop"); anything else it sends is ignored.
  return got > 0 && memmem(command, static_cast<size_t>(got), control::kStopCommand,
                           sizeof(control::kStopCommand) - 1) == nullptr;
}

void Collector::Run(int control) {
  uint64_t period_ns = kDrainPeriodNs;
  for (;;) {
    uint64_t until_snapshot = next_snapshot_ns_ - std::min(next_snapshot_ns_, MonotonicNowNs());
    uint64_t pause_ns = std::max<uint64_t>(std::min(period_ns, until_snapshot), 1'000'000);
    if (!Pause(pause_ns, control)) return;
    if (control >= 0 && g_agent.options.redirects_calls) RedirectCallsInNewModules();
    pthread_mutex_lock(&mutex_);
    if (finished_) {
      pthread_mutex_unlock(&mutex_);
      return;
    }
    Drain();
    uint64_t now = MonotonicNowNs();
    double samples_per_sec = AdaptInterval(now);
    period_ns = samples_per_sec > kQuietSamplesPerSec ? kDrainPeriodNs
                                                      : std::min(period_ns * 2, kQuietDrainPeriodNs);
    if (now >= next_snapshot_ns_) {
      next_snapshot_ns_ += interval_ns_;
      if (next_snapshot_ns_ <= now) next_snapshot_ns_ = now + interval_ns_;
      if (!connected_ && now >= reconnect_at_ns_) Reconnect(now);
      if (connected_ && !WriteSnapshot(now, false)) {
        if (reconnects_ && control < 0) {
          Disconnected(now, true);
        } else {
          // The sink said why, once (a session's peer tells its own user). Stop
          // sampling so the host pays nothing more; a session just ends.
          if (control < 0) g_agent.state.store(AgentState::kOff, std::memory_order_release);
          finished_ = true;
        }
      }
    }
    pthread_mutex_unlock(&mutex_);
  }
}

// Frees are taken before allocations, from the spills and the rings alike:
// a block's allocation always comes before its free, so every free taken has
// its allocation taken too, and a snapshot never shows a site below what it
// holds. (Allocations first let a thread spill a pair between the two reads:
// its free was counted, its allocation left for the next drain; a collector
// preempted there showed a churning site hundreds of objects below zero.)
void Collector::Drain() {
  bool spilled = g_agent.counters.spill_pending.exchange(false, std::memory_order_acq_rel);
  if (spilled) TakeSpilledFrees(true);
  uint16_t session = static_cast<uint16_t>(g_agent.session.load(std::memory_order_acquire));
  g_agent.rings.DrainAll([this, session](const SampleEvent& event) {
    if (event.session != session) return;
    if (event.kind == SampleEvent::kAlloc) ++samples_drained_;
    totals_.Apply(event);
  });
  if (spilled) TakeSpilledAllocations(true);
}

namespace {

// Takes (zeroes) a spilled counter: what host threads added since.
template <typename Value>
double Take(std::atomic<Value>& counter) {
  return counter.exchange(Value{0}, std::memory_order_acq_rel);
}

// Each stack that has a record: `take(id, record)`.
template <typename Function>
void ForEachStackRecord(Function take) {
  uint32_t count = g_agent.stacks.id_count();
  for (uint32_t id = 0; id < count; ++id) {
    if (StackRecord* record = g_agent.stacks.GetMutable(id)) take(id, *record);
  }
}

}  // namespace

void Collector::TakeSpilledFrees(bool apply) {
  ForEachStackRecord([this, apply](uint32_t id, StackRecord& record) {
    double objects = Take(record.spilled_freed_objects), bytes = Take(record.spilled_freed_bytes);
    if (apply && (objects != 0.0 || bytes != 0.0)) totals_.ApplyFree(id, objects, bytes);
    for (uint32_t cohort = 0; cohort < kCohorts; ++cohort) {
      bytes = Take(record.spilled_freed_cohort_bytes[cohort]);
      if (apply && bytes != 0.0) totals_.ApplyCohortFree(id, cohort, bytes);
    }
  });
}

void Collector::TakeSpilledAllocations(bool apply) {
  uint32_t cohort = CohortOf(static_cast<uint32_t>(sequence_));
  ForEachStackRecord([this, apply, cohort](uint32_t id, StackRecord& record) {
    double objects = Take(record.spilled_allocated_objects);
    double bytes = Take(record.spilled_allocated_bytes);
    if (apply && (objects != 0.0 || bytes != 0.0)) {
      totals_.ApplyAllocation(id, objects, bytes, cohort);
    }
  });
}

uint64_t Collector::samples() const {
  return samples_drained_ + g_agent.counters.allocations_spilled.load(std::memory_order_relaxed);
}

// The demand is every sample the threads tried to take, recorded or dropped.
// Returns the demand since the last drain, in samples per second.
// A burst (twice the budget within one drain period, far beyond Poisson
// noise at these counts) raises R at once; otherwise R follows the rate over
// a longer period, so noise alone never moves it.
double Collector::AdaptInterval(uint64_t now_ns) {
  const AgentCounters& counters = g_agent.counters;
  uint64_t attempts = samples() + counters.dropped_ring_full.load(std::memory_order_relaxed);
  double burst_rate = static_cast<double>(attempts - attempts_at_last_drain_) /
                      (static_cast<double>(now_ns - last_drain_ns_) / 1e9);
  attempts_at_last_drain_ = attempts;
  last_drain_ns_ = now_ns;
  g_sampler.StartWindow();
  if (g_sampler.OverBudget(burst_rate / 2)) {
    g_sampler.Adapt(burst_rate);
  } else if (now_ns - last_adapt_ns_ >= kAdaptPeriodNs) {
    g_sampler.Adapt(static_cast<double>(attempts - attempts_at_last_adapt_) /
                    (static_cast<double>(now_ns - last_adapt_ns_) / 1e9));
  } else {
    return burst_rate;
  }
  attempts_at_last_adapt_ = attempts;
  last_adapt_ns_ = now_ns;
  return burst_rate;
}

bool Collector::WriteSnapshot(uint64_t now_ns, bool final, const LeakScanResult* leaks) {
  buffer_.Clear();
  ProtoWriter writer(&buffer_);
  size_t token = BeginSnapshot(writer, sequence_, now_ns, final);
  // Stacks before the sites that name them; a record still being written by a
  // host thread ends the batch and is emitted next time.
  uint32_t stack_count = g_agent.stacks.id_count();
  while (stacks_emitted_ < stack_count) {
    const StackRecord* record = g_agent.stacks.Get(stacks_emitted_);
    if (record == nullptr) break;
    EncodeStack(writer, stacks_emitted_, *record);
    ++stacks_emitted_;
  }
  totals_.TakeChanged([&writer](uint32_t id, const SiteTotal& total, const CohortTotals& cohorts,
                                uint16_t changed_cohorts) {
    EncodeSite(writer, id, total, cohorts, changed_cohorts);
  });
  g_agent.modules.Refresh();
  g_agent.modules.TakeNew([&writer](const Segment& segment) { EncodeMapping(writer, segment); });
  if (leaks != nullptr) {
    writer.Bool(kSnapshotLeakScanDone, true);
    writer.Varint(kSnapshotLeakScanThreadsStopped, leaks->threads_stopped);
    writer.Varint(kSnapshotLeakScanThreadsRunning, leaks->threads_running);
    for (uint32_t id = 0; id < leaks->max_stacks; ++id) {
      const LeakTotals& totals = leaks->totals[id];
      if (totals.leaked_objects > 0 || totals.reachable_objects > 0) EncodeLeak(writer, id, totals);
    }
    for (uint32_t i = 0; i < leaks->indirect_count; ++i) {
      EncodeIndirectLeak(writer, leaks->indirect[i]);
    }
  }
  const AgentCounters& counters = g_agent.counters;
  StatsInfo stats{samples(),
                  counters.dropped_ring_full.load(std::memory_order_relaxed),
                  counters.dropped_no_ring.load(std::memory_order_relaxed),
                  counters.dropped_live_table_full.load(std::memory_order_relaxed),
                  counters.dropped_stack_table_full.load(std::memory_order_relaxed),
                  counters.frees_spilled.load(std::memory_order_relaxed),
                  MappedBytes(),
                  g_sampler.current_interval(),
                  g_live_table.size(),
                  stack_count,
                  counters.allocations_spilled.load(std::memory_order_relaxed),
                  counters.stacks_truncated.load(std::memory_order_relaxed)};
  EndSnapshot(writer, token, memory_reader_.Read(now_ns, final || sequence_ == 0), stats);
  if (!writer.ok()) {
    LogLine("cannot map memory to encode a snapshot; skipped");
    buffer_.Clear();
    return true;
  }
  ++sequence_;
  g_agent.epoch.store(static_cast<uint32_t>(sequence_), std::memory_order_relaxed);
  bool written = sink_.Write(buffer_.data(), buffer_.size(), final ? 1000 : 5000);
  if (!written && reconnects_) {
    // Not received whole: the next receiver gets this number again, so the
    // recording runs on without a gap (and the whole state, see Reconnect).
    --sequence_;
    g_agent.epoch.store(static_cast<uint32_t>(sequence_), std::memory_order_relaxed);
  }
  buffer_.Clear();
  buffer_.Trim(4 << 20);
  return written;
}

void Collector::Disconnected(uint64_t now_ns, bool say) {
  sink_.Close();
  connected_ = false;
  if (say && !said_disconnected_) {
    LogLine("receiver at %s went away; the program continues, heapdrift reconnects when it can",
            g_agent.options.output);
  }
  said_disconnected_ = true;
  reconnect_backoff_ns_ = kFirstReconnectNs;
  reconnect_at_ns_ = now_ns + reconnect_backoff_ns_;
}

// A new connection starts with the header (the same start as before) and a
// snapshot holding every stack, mapping and site: the receiver needs no
// earlier connection's records.
bool Collector::Reconnect(uint64_t now_ns) {
  const Options& options = g_agent.options;
  if (sink_.Open(options.output, options.role, options.process, Sink::kQuiet) &&
      WriteHeader(options)) {
    g_agent.modules.ResendAll();
    stacks_emitted_ = 0;
    totals_.MarkAllChanged(g_agent.stacks.id_count());
    connected_ = true;
    return true;
  }
  sink_.Close();
  reconnect_backoff_ns_ = std::min(reconnect_backoff_ns_ * 2, kLastReconnectNs);
  reconnect_at_ns_ = now_ns + reconnect_backoff_ns_;
  return false;
}

void Collector::Finish() {
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += kFinishLockTimeoutSec;
  if (pthread_mutex_timedlock(&mutex_, &deadline) != 0) return;  // collector stuck in I/O
  if (!finished_) {
    finished_ = true;
    Drain();
    LeakScanResult leaks;
    bool scanned = false;
    if (leak_scan_) {
      jmp_buf registers;  // callee-saved registers, spilled into this frame
      setjmp(registers);
      ExitCaller caller;
      ExitingThreadRoots exiting{reinterpret_cast<uintptr_t>(&registers), nullptr, 0};
      if (FindExitCaller(&caller)) {
        exiting = {caller.stack_pointer, caller.registers, kCalleeSavedCount};
      }
      scanned = ScanForLeaks(max_stacks_, exiting, &leaks);
      if (!scanned) LogLine("cannot map memory for the leak scan; skipped");
    }
    if (!connected_) Reconnect(MonotonicNowNs());  // once more, for the exit snapshot
    if (connected_) WriteSnapshot(MonotonicNowNs(), true, scanned ? &leaks : nullptr);
  }
  pthread_mutex_unlock(&mutex_);
}

}  // namespace heapdrift::agent
