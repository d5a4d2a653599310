// The agent's settings that the `heapdrift` command also takes as flags
// (bounds, names): written once, here, for the agent's parser and the command's.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

// The settings' names (environment variables, and a wake request's lines).
inline constexpr char kOutputVariable[] = "HEAPDRIFT_OUTPUT";
inline constexpr char kSampleBytesVariable[] = "HEAPDRIFT_SAMPLE_BYTES";
inline constexpr char kIntervalMsVariable[] = "HEAPDRIFT_INTERVAL_MS";
inline constexpr char kMaxSamplesPerSecVariable[] = "HEAPDRIFT_MAX_SAMPLES_PER_SEC";
// The settings a dormant agent's wake may carry (proto/control_protocol.h).
inline constexpr const char* kWakeSettings[] = {kSampleBytesVariable, kIntervalMsVariable,
                                                kMaxSamplesPerSecVariable, kOutputVariable};

inline constexpr uint64_t kMinSampleBytes = 1;  // 1 = exact mode: every allocation
inline constexpr uint64_t kMaxSampleBytes = uint64_t{1} << 40;
inline constexpr uint64_t kMinIntervalMs = 10;
inline constexpr uint64_t kMaxIntervalMs = 3'600'000;

// HEAPDRIFT_FOLLOW: which processes started from a recorded one record too.
// Programs it executes (exec, or fork then exec: wrappers, shells, service
// managers) are followed by default; children forked without exec only with
// "all"; "none" records the first process alone.
enum class FollowMode { kNone, kExec, kAll };
inline constexpr const char* kFollowModeNames[] = {"none", "exec", "all"};
inline constexpr FollowMode kDefaultFollowMode = FollowMode::kExec;
// Set by the first process of a followed tree to its pid, inherited by every
// process started from it. A command that starts a new tree unsets it.
inline constexpr char kRootPidVariable[] = "HEAPDRIFT_ROOT_PID";

}  // namespace heapdrift::agent
