// The bounds of the agent's settings that the `heapdrift` command also takes
// as flags: written once, here, for the agent's parser and the command's.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

inline constexpr uint64_t kMinSampleBytes = 1;  // 1 = exact mode: every allocation
inline constexpr uint64_t kMaxSampleBytes = uint64_t{1} << 40;
inline constexpr uint64_t kMinIntervalMs = 10;
inline constexpr uint64_t kMaxIntervalMs = 3'600'000;

}  // namespace heapdrift::agent
