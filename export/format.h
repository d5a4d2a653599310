// Small text formatters shared by the commands' human output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frame.h"
#include "recording.h"

namespace heapdrift {

// "12.3 MiB", "512 B", "-1.5 KiB".
std::string HumanBytes(double bytes);
// "+12.3 MiB", "-512 B".
std::string SignedBytes(double bytes);

// "f(int, std::vector<...> const&)" -> "f(...)": parameter lists of C++
// functions are long, and the file:line (or a site's hash) says which overload.
std::string ShortFunction(const std::string& function);
// "f(...) (dir/file.cc:12)": a frame for a human, parameter lists elided and
// the file cut to its last two path components.
std::string FrameTitle(const symbolizer::Frame& frame);

// `text` safe inside HTML text or a quoted attribute: < > & " escaped.
std::string HtmlEscape(const std::string& text);

// A line of block characters drawing `values` in `width` columns.
std::string Sparkline(const std::vector<double>& values, size_t width);

// "libfoo.so+0x1a2b": module basename and ELF virtual address (what addr2line
// and the symbolizer take) of the instruction a return address belongs to.
std::string ModuleOffset(const Recording& recording, uint64_t return_address);

}  // namespace heapdrift
