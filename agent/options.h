// The agent's settings, read once from HEAPDRIFT_* environment variables.
// Parsing never allocates; a bad value makes Parse() fail with a message and
// the agent stays off (the host runs on, untouched).
#pragma once

#include <cstdint>

#include "option_table.h"
#include "process_identity.h"

namespace heapdrift::agent {

// Decides the name a program image records to (see Sink::Open).
enum class ImageRole {
  kFirst,                // the tree's first process, as started
  kFirstProcessExecd,    // a later program image of the first process
  kOther,                // a process started from the tree (exec'd or forked child)
};

struct Options {
  // The settings (option_table.inc says what each one is).
#define HEAPDRIFT_TEXT(field, variable, default_value, capacity) \
  char field[capacity] = default_value;
#define HEAPDRIFT_COUNT(field, variable, default_value, min, max) \
  uint64_t field = default_value;
#define HEAPDRIFT_CHOICE(field, variable, type, default_value) type field = default_value;
#define HEAPDRIFT_FLAG(field, variable, default_value) bool field = default_value;
#include "option_table.inc"
#undef HEAPDRIFT_TEXT
#undef HEAPDRIFT_COUNT
#undef HEAPDRIFT_CHOICE
#undef HEAPDRIFT_FLAG

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
