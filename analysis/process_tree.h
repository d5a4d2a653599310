// The processes of one `heapdrift check` run, from their recordings: which
// process each one is in the tree, how it ended, and its verdict.
#pragma once

#include <vector>

#include "leak_check.h"
#include "recording.h"

namespace heapdrift {

// One recording of the run, as read (reading is the caller's).
struct RecordedProcess {
  Recording recording;
  std::vector<ReadWarning> read_warnings;
};

// Every process checked, in the order the processes started. A pid with
// several recordings exec'd: all but its last image were replaced by exec.
// A shell's fork-then-exec moment with nothing recorded is left out (its
// program is listed).
std::vector<ProcessCheck> CheckProcessTree(std::vector<RecordedProcess> recorded,
                                           const CheckOptions& options);

}  // namespace heapdrift
