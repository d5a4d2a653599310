// Attribute shorthands shared by every agent file.
#pragma once

#define HD_LIKELY(x) __builtin_expect(!!(x), 1)
#define HD_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HD_NOINLINE __attribute__((noinline))
#define HD_COLD __attribute__((cold, noinline))
#define HD_ALWAYS_INLINE inline __attribute__((always_inline))
// Symbols the preloaded library exports; everything else is hidden.
#define HD_EXPORT __attribute__((visibility("default")))
// For a global the hot path reads from another file: -fvisibility=hidden
// covers definitions only, so a plain extern declaration is reached through
// the GOT, one more load (and line) per call.
#define HD_HIDDEN __attribute__((visibility("hidden")))
