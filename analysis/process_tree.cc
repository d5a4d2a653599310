#include "process_tree.h"

#include <algorithm>
#include <map>

namespace heapdrift {

std::vector<ProcessCheck> CheckProcessTree(std::vector<RecordedProcess> recorded,
                                           const CheckOptions& options) {
  std::stable_sort(recorded.begin(), recorded.end(),
                   [](const RecordedProcess& a, const RecordedProcess& b) {
                     return a.recording.header.start_clock_ns() < b.recording.header.start_clock_ns();
                   });
  std::map<uint32_t, size_t> last_image;
  for (size_t i = 0; i < recorded.size(); ++i) last_image[recorded[i].recording.header.pid()] = i;
  std::vector<ProcessCheck> processes;
  for (size_t i = 0; i < recorded.size(); ++i) {
    CallSiteResolver resolver(recorded[i].recording, options.wrappers, options.debug_paths);
    ProcessCheck check = CheckRecording(resolver, options);
    bool vanished = check.ending == ProcessEnding::kVanished;
    if (vanished) {
      if (last_image[check.pid] != i) check.ending = ProcessEnding::kReplacedByExec;
      if (check.forked && check.ending == ProcessEnding::kReplacedByExec && !check.recorded) {
        continue;
      }
    }
    for (ReadWarning& warning : recorded[i].read_warnings) {
      // How the process ended says what "no final snapshot" would.
      if (vanished && warning.kind == ReadWarningKind::kNoFinalSnapshot) continue;
      check.warnings.push_back({CheckWarningKind::kRecording, 0, std::move(warning.text)});
    }
    processes.push_back(std::move(check));
  }
  return processes;
}

}  // namespace heapdrift
