// The agent's settings as constants (option_table.inc), for the agent's
// parser and for the `heapdrift` command's flags: names, defaults, bounds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "recording_format.h"

namespace heapdrift::agent {

// HEAPDRIFT_FOLLOW: which processes started from a recorded one record too.
// Programs it executes (exec, or fork then exec: wrappers, shells, service
// managers) are followed by default; children forked without exec only with
// "all"; "none" records the first process alone.
enum class FollowMode { kNone, kExec, kAll };
inline constexpr const char* kFollowModeNames[] = {"none", "exec", "all"};

struct TextOption {
  const char* variable;
  const char* default_value;
  size_t capacity;  // with the terminating zero
};
struct CountOption {
  const char* variable;
  uint64_t default_value, min, max;
};
template <typename Enum>
struct ChoiceOption {
  const char* variable;
  Enum default_value;
};
struct FlagOption {
  const char* variable;
  bool default_value;
};

namespace option {
#define HEAPDRIFT_TEXT(field, variable, default_value, capacity) \
  inline constexpr TextOption field{variable, default_value, capacity};
#define HEAPDRIFT_COUNT(field, variable, default_value, min, max) \
  inline constexpr CountOption field{variable, default_value, min, max};
#define HEAPDRIFT_CHOICE(field, variable, type, default_value) \
  inline constexpr ChoiceOption<type> field{variable, default_value};
#define HEAPDRIFT_FLAG(field, variable, default_value) \
  inline constexpr FlagOption field{variable, default_value};
#include "option_table.inc"
#undef HEAPDRIFT_TEXT
#undef HEAPDRIFT_COUNT
#undef HEAPDRIFT_CHOICE
#undef HEAPDRIFT_FLAG
}  // namespace option

// The settings a dormant agent's wake may carry (proto/control_protocol.h).
inline constexpr const char* kWakeSettings[] = {
    option::sample_bytes.variable, option::interval_ms.variable,
    option::max_samples_per_sec.variable, option::output.variable};

// Set by the first process of a followed tree to its pid, inherited by every
// process started from it. A command that starts a new tree unsets it.
inline constexpr char kRootPidVariable[] = "HEAPDRIFT_ROOT_PID";

}  // namespace heapdrift::agent
