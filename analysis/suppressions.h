// Suppressions for `heapdrift check`: which leaks are known and accepted.
//
// The file syntax is LeakSanitizer's, so existing files keep working: one
// `leak:PATTERN` per line; `#` at the start of a line or after a blank starts
// a comment (`leak:Parse   # our known bug`); blank lines are ignored. A
// pattern matches a frame when it matches the frame's function (demangled),
// its source file or its module path; a leak is suppressed when its pattern
// matches any frame of the leak's stack. `*` matches any run of characters;
// a pattern matches anywhere in the text unless anchored with a leading `^`
// or a trailing `$`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frame.h"

namespace heapdrift {

struct Suppression {
  std::string pattern;
  std::string origin;  // "FILE:LINE", or "built-in: why it is safe"
};

// Parses `text` (the contents of `file_name`). On a malformed line returns
// false with *error naming the file and line.
bool ParseSuppressions(std::string_view text, const std::string& file_name,
                       std::vector<Suppression>* out, std::string* error);

// One-time allocations of the C and C++ runtime and the dynamic loader that
// no program can free, each with the reason it is safe to ignore.
const std::vector<Suppression>& BuiltinSuppressions();

// LeakSanitizer's pattern matching (see above).
bool PatternMatches(std::string_view pattern, std::string_view text);

// The first suppression matching a frame of `stack`, if any.
const Suppression* FindSuppression(const std::vector<Suppression>& suppressions,
                                   const std::vector<symbolizer::Frame>& stack);

}  // namespace heapdrift
