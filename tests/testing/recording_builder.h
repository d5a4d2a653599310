// Recordings built by hand, in memory, for the unit tests of the analysis
// and the exporters: a header, stacks of made-up return addresses in two
// made-up modules (symbolized as module+offset: the files do not exist),
// and snapshots holding the call sites that changed.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift::testing {

inline constexpr char kFakeModule[] = "/nonexistent/libfake.so";
inline constexpr uint64_t kFakeModuleStart = 0x10000;
// Offsets from kOtherModuleOffset on fall in a second module.
inline constexpr char kOtherModule[] = "/nonexistent/libother.so";
inline constexpr uint64_t kOtherModuleOffset = 0x20000;

struct SiteValues {
  uint32_t stack_id = 0;
  int64_t live_bytes = 0;
  int64_t live_objects = 0;
  uint64_t allocated_bytes = 0;
  uint64_t allocated_objects = 0;
};

class RecordingBuilder {
 public:
  explicit RecordingBuilder(uint64_t sample_bytes = 1) {
    recording_.header.set_format_version(kSupportedFormatVersion);
    recording_.header.set_pid(4242);
    recording_.header.set_sample_bytes(sample_bytes);
    recording_.header.set_cohorts(16);
    recording_.header.set_start_clock_ns(1'000'000'000);
    recording_.header.add_command_line("./server");
    proto::Mapping& mapping = recording_.mappings.emplace_back();
    mapping.set_path(kFakeModule);
    mapping.set_start(kFakeModuleStart);
    mapping.set_limit(kFakeModuleStart + 0x10000);
    mapping.set_load_bias(0);
    proto::Mapping& other = recording_.mappings.emplace_back();
    other.set_path(kOtherModule);
    other.set_start(kFakeModuleStart + kOtherModuleOffset);
    other.set_limit(kFakeModuleStart + kOtherModuleOffset + 0x10000);
    other.set_load_bias(kFakeModuleStart + kOtherModuleOffset);
  }

  // Offsets into the fake module (or, from kOtherModuleOffset on, into the
  // other one), innermost first.
  RecordingBuilder& Stack(uint32_t id, std::vector<uint64_t> offsets) {
    for (uint64_t& offset : offsets) offset += kFakeModuleStart;
    recording_.stacks[id] = std::move(offsets);
    return *this;
  }

  proto::Snapshot& Snapshot(double seconds, const std::vector<SiteValues>& sites) {
    proto::Snapshot& snapshot = recording_.snapshots.emplace_back();
    snapshot.set_sequence(recording_.snapshots.size() - 1);
    snapshot.set_time_ns(recording_.header.start_clock_ns() +
                         static_cast<uint64_t>(seconds * 1e9));
    snapshot.mutable_stats()->set_current_sample_bytes(recording_.header.sample_bytes());
    for (const SiteValues& values : sites) {
      proto::CallSite* site = snapshot.add_sites();
      site->set_stack_id(values.stack_id);
      site->set_live_bytes(values.live_bytes);
      site->set_live_objects(values.live_objects);
      site->set_allocated_bytes(values.allocated_bytes);
      site->set_allocated_objects(values.allocated_objects);
    }
    return snapshot;
  }

  const Recording& recording() const { return recording_; }
  Recording Take() { return std::move(recording_); }

 private:
  Recording recording_;
};

// A recording as the agent writes it (recording.h): the header, then each
// snapshot, each length-prefixed; the stacks and mappings go into the first
// snapshot, where a reader finds them before any site uses them.
inline std::string RecordingFileBytes(const Recording& recording) {
  auto framed = [](const google::protobuf::MessageLite& message) {
    std::string payload = message.SerializeAsString(), record;
    for (uint64_t length = payload.size();; length >>= 7) {
      record.push_back(static_cast<char>((length & 0x7f) | (length >= 0x80 ? 0x80 : 0)));
      if (length < 0x80) break;
    }
    return record + payload;
  };
  proto::Header header = recording.header;
  header.set_magic(format::kRecordingMagic);
  std::string bytes = framed(header);
  for (size_t i = 0; i < recording.snapshots.size(); ++i) {
    if (i != 0) {
      bytes += framed(recording.snapshots[i]);
      continue;
    }
    proto::Snapshot first = recording.snapshots[0];
    for (const proto::Mapping& mapping : recording.mappings) *first.add_mappings() = mapping;
    for (const auto& [id, frames] : recording.stacks) {
      proto::Stack* stack = first.add_stacks();
      stack->set_id(id);
      for (uint64_t frame : frames) stack->add_frames(frame);
    }
    bytes += framed(first);
  }
  return bytes;
}

// How a frame at `offset` into the fake module is named (module+offset of
// the call instruction: the byte before the return address).
inline std::string FakeFrame(uint64_t offset) {
  return fmt::format("libfake.so+0x{:x}", kFakeModuleStart + offset - 1);
}

}  // namespace heapdrift::testing
