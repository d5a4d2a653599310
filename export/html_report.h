// The report as one self-contained HTML page (`report --html`, `check
// --html`, the daemon's /report): the findings as one JSON document inlined
// in the page, drawn by the page's own inline script (export/html/) into SVG
// charts and icicle flame graphs. Nothing is fetched: the page opens from a
// mail attachment or a CI artifact with no network.
#pragma once

#include <string>
#include <vector>

#include "check_output.h"
#include "heap_moments.h"
#include "leak_check.h"
#include "report_output.h"

namespace heapdrift {

// One process of a report page: its report, and its heap by stack at a few
// moments (BuildHeapMoments) for the flame graphs.
struct HtmlProcess {
  const ProcessReport* process = nullptr;
  HeapMoments heap;
};

// `processes`: every process of the report (one line each); `detailed`:
// those shown in full (ProcessesToDetail), `top` suspects each.
std::string HtmlReportPage(const std::string& title, const std::vector<ProcessReport>& processes,
                           const std::vector<HtmlProcess>& detailed, size_t top);

// `check`'s page: the verdict, then each process's leaks and growth with
// their stacks, and a flame graph of what leaked.
std::string HtmlCheckPage(const CheckRun& run, const CheckOptions& options, int exit_code);

}  // namespace heapdrift
