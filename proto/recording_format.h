// The recording format's constants, written once for the agent's hand-made
// encoder (agent/collector/snapshot_encoder.cc) and every reader (recording/recording.cc,
// the stream receiver, the tree finder). Header only: the agent includes it
// without linking anything of proto/.
#pragma once

#include <cstdint>

namespace heapdrift::format {

inline constexpr char kRecordingMagic[] = "heapdrift-recording";
// Bumped when a reader of the old version would misread a new recording;
// new fields alone do not bump it (older readers skip them).
inline constexpr uint32_t kFormatVersion = 1;
// Cohort k closes at snapshot 2^k - 1 of a 64-bit sequence: more than 64
// cohorts in a header is corruption.
inline constexpr uint32_t kMaxCohorts = 64;
// Stack ids lie below this (the most HEAPDRIFT_MAX_STACKS allows), and a
// stack holds at most kMaxStackDepth frames: beyond is corruption, which a
// reader must not allocate for.
inline constexpr uint32_t kMaxStackIds = 1u << 24;
inline constexpr uint32_t kMaxStackDepth = 64;
// A record's length prefix above this is corruption.
inline constexpr uint32_t kMaxRecordBytes = 1u << 30;

}  // namespace heapdrift::format
