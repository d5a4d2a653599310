#include "suppressions.h"

#include <fmt/format.h>

namespace heapdrift {
namespace {

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// Glob match of `pattern` (with `*`) against a prefix of `text` when
// `whole` is false, or against all of it.
bool GlobAt(std::string_view pattern, std::string_view text, bool whole) {
  // Iterative matcher with one backtrack point: linear in practice, no
  // exponential blow-up on patterns with many stars.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (p == pattern.size() && !whole) {
      return true;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool PatternMatches(std::string_view pattern, std::string_view text) {
  bool anchored_start = !pattern.empty() && pattern.front() == '^';
  if (anchored_start) pattern.remove_prefix(1);
  bool anchored_end = !pattern.empty() && pattern.back() == '$';
  if (anchored_end) pattern.remove_suffix(1);
  if (anchored_start) return GlobAt(pattern, text, anchored_end);
  for (size_t start = 0; start <= text.size(); ++start) {
    if (GlobAt(pattern, text.substr(start), anchored_end)) return true;
  }
  return false;
}

bool ParseSuppressions(std::string_view text, const std::string& file_name,
                       std::vector<Suppression>* out, std::string* error) {
  constexpr std::string_view kPrefix = "leak:";
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    // A comment starts a line or follows a blank: "leak:Parse  # known bug".
    for (size_t hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1)) {
      if (hash == 0 || line[hash - 1] == ' ' || line[hash - 1] == '\t') {
        line = line.substr(0, hash);
        break;
      }
    }
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::string_view pattern = line.substr(0, kPrefix.size()) == kPrefix
                                   ? Trim(line.substr(kPrefix.size()))
                                   : std::string_view{};
    if (line.substr(0, kPrefix.size()) != kPrefix || pattern.empty() || pattern == "^" ||
        pattern == "$" || pattern == "^$") {
      *error = fmt::format("{}:{}: expected 'leak:PATTERN', found '{}'", file_name, line_number,
                           line);
      return false;
    }
    out->push_back({std::string(pattern), fmt::format("{}:{}", file_name, line_number)});
  }
  return true;
}

const std::vector<Suppression>& BuiltinSuppressions() {
  static const std::vector<Suppression> builtins = {
      // Dynamic thread-local storage: blocks hang off each thread's DTV, which
      // lives in the thread control block, not in memory the scan reads.
      {"^__tls_get_addr$", "built-in: dynamic TLS blocks, owned by the thread's DTV"},
      {"^_dl_allocate_tls", "built-in: static TLS of new threads, owned by the loader"},
      {"^_dl_resize_dtv$", "built-in: the loader's per-thread TLS vector"},
      {"^_dl_update_slotinfo$", "built-in: the loader's per-thread TLS vector"},
      // glibc keeps the last dlerror() message in thread-local storage of
      // threads the scan does not read.
      {"^_dlerror_run$", "built-in: dlerror() message kept per thread by glibc"},
      // pthread_exit loads libgcc_s for unwinding once, kept for the process.
      {"^pthread_exit$", "built-in: libgcc_s loaded once by pthread_exit"},
      {"^__libc_unwind_link_get$", "built-in: libgcc_s loaded once by pthread_exit"},
  };
  return builtins;
}

const Suppression* FindSuppression(const std::vector<Suppression>& suppressions,
                                   const std::vector<symbolizer::Frame>& stack) {
  for (const Suppression& suppression : suppressions) {
    for (const symbolizer::Frame& frame : stack) {
      if ((!frame.function.empty() && PatternMatches(suppression.pattern, frame.function)) ||
          (!frame.file.empty() && PatternMatches(suppression.pattern, frame.file)) ||
          (!frame.module.empty() && PatternMatches(suppression.pattern, frame.module))) {
        return &suppression;
      }
    }
  }
  return nullptr;
}

}  // namespace heapdrift
