// Debian's headless Chromium opening a page from a file, as a reader would:
// the DOM after the page's scripts ran, a screenshot, and what the page
// wrote to the console (its errors included).
#pragma once

#include <string>
#include <vector>

namespace heapdrift::testing {

struct BrowserRun {
  int exit_code = -1;
  bool timed_out = false;
  std::string dom;                    // with dump_dom
  std::vector<std::string> console;   // the page's console lines, errors included
  std::string log;                    // all of Chromium's stderr, for failure messages
};

struct BrowserOptions {
  bool dump_dom = true;
  std::string screenshot;   // PNG path; "" for none
  int width = 1200, height = 1600;
  // Every connection Chromium makes goes to this loopback port (0: none set),
  // so a test can count what the page tried to fetch.
  int proxy_port = 0;
  std::string fragment;     // "#id" appended to the page's URL
};

BrowserRun OpenInChromium(const std::string& page_path, const BrowserOptions& options = {});

// Console lines that report an error the page did not catch, or a load its
// content policy refused.
std::vector<std::string> UncaughtErrors(const BrowserRun& run);

}  // namespace heapdrift::testing
