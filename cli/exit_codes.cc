#include "exit_codes.h"

namespace heapdrift::cli {

int ExitCodeFor(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return kExitOk;
    case ReadStatus::kNewerVersion:
      return kExitNewerFormat;
    default:
      return kExitBadRecording;
  }
}

}  // namespace heapdrift::cli
