// Attribute shorthands shared by every agent file.
#pragma once

#define HD_LIKELY(x) __builtin_expect(!!(x), 1)
#define HD_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HD_NOINLINE __attribute__((noinline))
#define HD_COLD __attribute__((cold, noinline))
#define HD_ALWAYS_INLINE inline __attribute__((always_inline))
// Symbols the preloaded library exports; everything else is hidden.
#define HD_EXPORT __attribute__((visibility("default")))
