// The recordings of one process tree. With HEAPDRIFT_FOLLOW (exec, by
// default) every process a recorded program starts records too: the first
// process writes OUTPUT, the others OUTPUT.<pid> (OUTPUT.<pid>.N if taken),
// or OUTPUT's own "%p" expansion, each naming the first process in its
// header (root_pid). A wrapper's recording (timeout, sh -c, sudo, a start
// script) is where a user looks first; the program's is beside it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "heapdrift.pb.h"

namespace heapdrift {

struct TreeMember {
  std::string path;
  proto::Header header;
};

// The recordings beside `first_path` of processes started from the process
// `first` was recorded from, ordered by start. Empty when `first` is not the
// first process of a tree. Reads only the headers.
std::vector<TreeMember> FindLaterRecordings(const std::string& first_path,
                                            const proto::Header& first);

// Reads only the header of the recording at `path` (its first 64 KiB);
// false if it is not a recording.
bool ReadRecordingHeader(const std::filesystem::path& path, proto::Header* header);

// The recording's process in a line: "pid 42 (./server --port 80)".
std::string DescribeProcess(const proto::Header& header);

}  // namespace heapdrift
