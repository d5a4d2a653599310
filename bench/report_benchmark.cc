// How long `heapdrift report` takes on a large recording: 3,600 snapshots
// (an hour at one per second) of 20,000 call sites, 2,000 of which change in
// each snapshot, with stacks made of real return addresses in this binary so
// that symbolization does real work. Prints the time to read the file and to
// build the report. usage: report_benchmark [snapshots] [sites]
#include <link.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "growth_report.h"
#include "heapdrift.pb.h"
#include "recording.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Text {
  uintptr_t start = 0, end = 0, bias = 0;
};

Text OwnText() {
  Text text;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* t = static_cast<Text*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
            t->start = info->dlpi_addr + ph.p_vaddr;
            t->end = t->start + ph.p_memsz;
            t->bias = info->dlpi_addr;
          }
        }
        return 1;  // the first object is this executable
      },
      &text);
  return text;
}

void WriteDelimited(std::ofstream& out, const google::protobuf::Message& message) {
  std::string bytes = message.SerializeAsString();
  uint64_t length = bytes.size();
  while (length >= 0x80) {
    out.put(static_cast<char>((length & 0x7f) | 0x80));
    length >>= 7;
  }
  out.put(static_cast<char>(length));
  out << bytes;
}

std::string MakeRecording(int snapshots, int sites) {
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/heapdrift-report-benchmark.rec";
  std::ofstream out(path, std::ios::binary);
  Text text = OwnText();
  heapdrift::proto::Header header;
  header.set_magic("heapdrift-recording");
  header.set_format_version(1);
  header.set_sample_bytes(65536);
  header.set_executable("/proc/self/exe");
  WriteDelimited(out, header);
  std::mt19937_64 random(1);
  std::vector<double> live(sites, 0);
  for (int s = 0; s < snapshots; ++s) {
    heapdrift::proto::Snapshot snapshot;
    snapshot.set_sequence(s);
    snapshot.set_time_ns(static_cast<uint64_t>(s + 1) * 1000000000ULL);
    if (s == 0) {
      char exe[4096];
      ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
      exe[length > 0 ? length : 0] = '\0';
      auto* mapping = snapshot.add_mappings();
      mapping->set_start(text.start);
      mapping->set_limit(text.end);
      mapping->set_load_bias(text.bias);
      mapping->set_path(exe);
      for (int id = 0; id < sites; ++id) {
        auto* stack = snapshot.add_stacks();
        stack->set_id(id);
        for (int depth = 0; depth < 12; ++depth) {
          // 2,000 distinct return addresses, shared among the stacks.
          uint64_t slot = (id * 7919ULL + depth * 104729ULL) % 2000;
          stack->add_frames(text.start + 1 + slot * ((text.end - text.start - 2) / 2000));
        }
      }
    }
    for (int change = 0; change < 2000; ++change) {
      int id = static_cast<int>(random() % sites);
      // 1 % of the sites leak; the rest churn around a level.
      live[id] = id % 100 == 0 ? live[id] + 4096 : 65536.0 * (random() % 64);
      auto* site = snapshot.add_sites();
      site->set_stack_id(id);
      site->set_live_bytes(static_cast<int64_t>(live[id]));
      site->set_live_objects(static_cast<int64_t>(live[id] / 64));
      site->set_allocated_bytes(static_cast<uint64_t>(s) * 65536);
      site->set_allocated_objects(static_cast<uint64_t>(s));
    }
    WriteDelimited(out, snapshot);
  }
  return path;
}

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int snapshots = argc > 1 ? std::atoi(argv[1]) : 3600;
  int sites = argc > 2 ? std::atoi(argv[2]) : 20000;
  std::string path = MakeRecording(snapshots, sites);
  auto start = Clock::now();
  heapdrift::Recording recording;
  heapdrift::ReadResult result = heapdrift::ReadRecording(path, &recording);
  double read_seconds = Since(start);
  if (result.status != heapdrift::ReadStatus::kOk) {
    std::fprintf(stderr, "report_benchmark: %s\n", result.message.c_str());
    return 1;
  }
  start = Clock::now();
  heapdrift::CallSiteResolver resolver(recording);
  heapdrift::GrowthReport report = heapdrift::BuildGrowthReport(resolver);
  double report_seconds = Since(start);
  std::printf("report_benchmark: %d snapshots x %d call sites: read %.2f s, report %.2f s, "
              "total %.2f s (goal: under 2 s); %zu growing of %zu sites\n",
              snapshots, sites, read_seconds, report_seconds, read_seconds + report_seconds,
              report.growing.size(), report.growing.size() + report.others.size());
  std::remove(path.c_str());
  return 0;
}
