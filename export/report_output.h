// What `heapdrift report` tells: the ranked call sites as text (one
// process, or a tree of them) or as JSON, and the memory explanation.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "growth_report.h"
#include "recording.h"

namespace heapdrift {

struct ProcessReport {
  std::string path;
  Recording recording;
  GrowthReport report;
  bool readable = false;
};

// One sentence explaining how RSS, malloc's in-use bytes and the estimated
// live heap changed together (e.g. "RSS grew but the heap did not").
std::string ExplainMemory(const MemorySummary& memory);

// "15 % of what it allocated before 8.0 s is still live; none of that died
// after 14.0 s": what became of a site's old memory, in words.
std::string AgeText(const OldMemory& old);

// The processes of a tree worth a full section: each whose live memory
// grows, fastest first, or else the one holding the most live memory. The
// text and the page show the first kMaxDetailedProcesses in full; the rest
// are a line each.
inline constexpr size_t kMaxDetailedProcesses = 3;
std::vector<const ProcessReport*> ProcessesToDetail(const std::vector<ProcessReport>& processes);
// "2 growing call site(s), fastest 1.0 MiB/s", "nothing grows; 3 MiB live", ...
std::string ProcessState(const ProcessReport& process);

// One process's report; `top` growing call sites at most.
void PrintReportText(std::FILE* out, const ProcessReport& process, size_t top);

// A tree of recordings (a wrapper and the program behind it, a shell and what
// it ran): one line per process, then the full report of each process whose
// live memory grows, fastest first (or, if none grows, of the process
// holding the most live memory: the program, not its wrapper).
void PrintReportTree(std::FILE* out, const std::string& first_path,
                     const std::vector<ProcessReport>& processes, size_t top);

// {"suspects": [...], "heap": [...], "spread_growth": [...]}: the `top`
// fastest-growing call sites across the processes.
nlohmann::json ReportJson(const std::vector<ProcessReport>& processes, size_t top);

}  // namespace heapdrift
