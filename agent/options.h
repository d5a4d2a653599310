// The agent's settings, read once from HEAPDRIFT_* environment variables.
// Parsing never allocates; a bad value makes Parse() fail with a message and
// the agent stays off (the host runs on, untouched).
#pragma once

#include <cstdint>

#include "option_limits.h"
#include "process_identity.h"

namespace heapdrift::agent {

// Decides the name a program image records to (see Sink::Open).
enum class ImageRole {
  kFirst,                // the tree's first process, as started
  kFirstProcessExecd,    // a later program image of the first process
  kOther,                // a process started from the tree (exec'd or forked child)
};

struct Options {
  // HEAPDRIFT_OUTPUT: a file path, or "unix:/path.sock" to stream to a
  // receiver. "%p" in a file path becomes the pid.
  char output[4096] = "heapdrift-%p.rec";
  uint64_t sample_bytes = 64 * 1024;           // HEAPDRIFT_SAMPLE_BYTES (1 = exact)
  uint64_t max_samples_per_sec = 2000;         // HEAPDRIFT_MAX_SAMPLES_PER_SEC (0 = fixed)
  uint64_t interval_ms = 1000;                 // HEAPDRIFT_INTERVAL_MS
  uint64_t max_stacks = 0;                     // HEAPDRIFT_MAX_STACKS (0 = by mode)
  uint64_t max_live = 0;                       // HEAPDRIFT_MAX_LIVE (0 = by mode)
  uint64_t max_threads = 1024;                 // HEAPDRIFT_MAX_THREADS
  uint64_t ring_events = 0;                    // HEAPDRIFT_RING_EVENTS (0 = by mode)
  FollowMode follow = kDefaultFollowMode;      // HEAPDRIFT_FOLLOW
  bool leak_scan = false;                      // HEAPDRIFT_LEAK_SCAN (exact mode only)
  // HEAPDRIFT_DORMANT: interpose, record nothing until `heapdrift attach`
  // wakes the agent over its control socket (proto/control_protocol.h).
  bool dormant = false;
  char control_dir[256] = "";                  // HEAPDRIFT_CONTROL_DIR ("" = the default)

  // Not settings: where this program image stands in the recorded tree.
  ImageRole role = ImageRole::kFirst;
  uint32_t root_pid = 0;      // the tree's first process
  ProcessIdentity process;    // this process, across exec
  bool forked = false;        // recording from fork() on, in the child
  bool attached = false;      // recording from a wake on, not from the start
  // Loaded into a running process by `heapdrift attach`, not preloaded: the
  // program's calls reach the agent only through the GOT slots it redirects
  // while a recording runs (got_redirect.h).
  bool redirects_calls = false;

  bool streams_to_socket() const;
  const char* socket_path() const;  // after "unix:"
};

// Fills `options` from the environment. On failure returns false with a
// one-line reason in `error`.
bool ParseOptions(Options* options, char* error, unsigned long error_size);

// A setting's text by its HEAPDRIFT_* name, or nullptr when not given.
using SettingLookup = const char* (*)(const char* name, const void* context);

// The settings a wake request may change (control::kWakeSettings), read with
// the same names and bounds as at start. The output is cleared: the wake's
// connection, unless the request names a receiver (unix: only).
bool ParseWakeSettings(Options* options, SettingLookup lookup, const void* context, char* error,
                       unsigned long error_size);

}  // namespace heapdrift::agent
