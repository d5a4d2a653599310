#include "chromium.h"

#include <filesystem>

#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {

BrowserRun OpenInChromium(const std::string& page_path, const BrowserOptions& options) {
  // A profile of its own per run: nothing carried over, nothing left behind.
  TempDir profile;
  std::vector<std::string> argv = {
      "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
      "--no-first-run", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--user-data-dir=" + profile.path().string(),
      // The page's console, on stderr: "INFO:CONSOLE(...)" lines.
      "--enable-logging=stderr", "--v=0",
      // Time for the page's scripts to finish before the DOM is taken.
      "--virtual-time-budget=5000",
      "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height)};
  if (options.proxy_port != 0) {
    argv.push_back("--proxy-server=http://127.0.0.1:" + std::to_string(options.proxy_port));
    argv.push_back("--proxy-bypass-list=<-loopback>");
  }
  if (!options.screenshot.empty()) argv.push_back("--screenshot=" + options.screenshot);
  if (options.dump_dom) argv.push_back("--dump-dom");
  argv.push_back("file://" + std::filesystem::absolute(page_path).string() + options.fragment);
  ProcessResult result = RunProcess(argv, {}, 90);
  BrowserRun run;
  run.exit_code = result.exit_code;
  run.timed_out = result.timed_out;
  run.dom = std::move(result.out);
  run.log = result.err;
  size_t start = 0;
  while (start < result.err.size()) {
    size_t end = result.err.find('\n', start);
    if (end == std::string::npos) end = result.err.size();
    std::string line = result.err.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) run.console.push_back(line);
    start = end + 1;
  }
  return run;
}

std::vector<std::string> UncaughtErrors(const BrowserRun& run) {
  std::vector<std::string> errors;
  for (const std::string& line : run.console) {
    // Exceptions, and what the page's content policy refused to load.
    if (line.find("Uncaught") != std::string::npos || line.find("Error") != std::string::npos ||
        line.find("Refused to") != std::string::npos) {
      errors.push_back(line);
    }
  }
  return errors;
}

}  // namespace heapdrift::testing
