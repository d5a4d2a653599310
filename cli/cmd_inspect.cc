// heapdrift inspect: what a recording holds, raw: header, memory, agent
// statistics and the call sites holding the most live memory at the end, with
// frames as module+offset (symbols come with `report`).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "cohorts.h"
#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "format.h"
#include "recording.h"
#include "recording_tree.h"

namespace heapdrift::cli {
namespace {

struct SiteEnd {
  uint32_t stack_id;
  proto::CallSite first;  // first time the site appeared
  double first_seconds;
  proto::CallSite last;
};

// "still live by birth: 0.0-1.0 s 24% of 50.0 KiB, ...": what share of the
// bytes born in each window is live at the end.
void PrintCohorts(const Recording& recording, const Cohorts& cohorts) {
  std::string text;
  for (const auto& [index, cohort] : cohorts) {
    if (cohort.allocated_bytes <= 0) continue;
    BirthWindow born = CohortBirthWindow(recording, index);
    text += fmt::format("{}{:.1f}-{:.1f} s {:.0f}% of {}", text.empty() ? "" : ", ", born.from,
                        born.to, 100 * std::max(0.0, cohort.live_bytes) / cohort.allocated_bytes,
                        HumanBytes(cohort.allocated_bytes));
  }
  if (!text.empty()) fmt::print("     still live, by birth: {}\n", text);
}

void PrintRecording(const Recording& recording, const std::string& path, size_t top) {
  const proto::Header& header = recording.header;
  std::string command;
  for (const std::string& argument : header.command_line()) command += argument + " ";
  fmt::print("recording {}: pid {} {}\n", path, header.pid(), command);
  fmt::print("  format {}, agent {}, sampling interval {} ({}), snapshots every {} ms\n",
             header.format_version(), header.agent_version(),
             header.sample_bytes() == 1 ? std::string("exact") : HumanBytes(header.sample_bytes()),
             header.max_samples_per_sec() ? fmt::format("adaptive, budget {}/s",
                                                        header.max_samples_per_sec())
                                          : "fixed",
             header.snapshot_interval_ms());
  if (std::string note = recording.StartNote(); !note.empty()) fmt::print("  {}\n", note);
  if (recording.snapshots.empty()) {
    fmt::print("  no snapshots\n");
    return;
  }
  const proto::Snapshot& first = recording.snapshots.front();
  const proto::Snapshot& last = recording.snapshots.back();
  fmt::print("  {} snapshots over {:.1f} s{}\n", recording.snapshots.size(),
             recording.DurationSeconds(), last.final() ? "" : " (no final snapshot)");
  fmt::print("  RSS {} -> {}", HumanBytes(first.memory().rss_bytes()),
             HumanBytes(last.memory().rss_bytes()));
  if (last.memory().has_allocator_stats()) {
    fmt::print("; malloc in use {} -> {}", HumanBytes(first.memory().allocator_in_use_bytes()),
               HumanBytes(last.memory().allocator_in_use_bytes()));
  }
  fmt::print("\n");
  const proto::AgentStats& stats = last.stats();
  uint64_t dropped = stats.dropped_ring_full() + stats.dropped_no_ring() +
                     stats.dropped_live_table_full() + stats.dropped_stack_table_full();
  fmt::print("  agent: {} samples, {} dropped, {} spilled, {} stacks, {} mapped by the agent, "
             "interval now {}\n",
             stats.samples(), dropped, stats.frees_spilled() + stats.allocations_spilled(),
             stats.stacks(),
             HumanBytes(stats.agent_memory_bytes()), HumanBytes(stats.current_sample_bytes()));
  if (stats.stacks_truncated() > 0) {
    fmt::print("  {} samples kept under stacks truncated to 8 frames (stack table full; raise "
               "HEAPDRIFT_MAX_STACKS)\n",
               stats.stacks_truncated());
  }
  if (dropped > 0) {
    fmt::print("  dropped: {} ring full, {} no ring, {} live table full, {} stack table full\n",
               stats.dropped_ring_full(), stats.dropped_no_ring(), stats.dropped_live_table_full(),
               stats.dropped_stack_table_full());
  }

  if (last.leak_scan_done()) {
    double leaked_bytes = 0, leaked_objects = 0, reachable_bytes = 0, reachable_objects = 0;
    size_t leaking_stacks = 0;
    for (const proto::Leak& leak : last.leaks()) {
      leaked_bytes += leak.leaked_bytes();
      leaked_objects += leak.leaked_objects();
      reachable_bytes += leak.reachable_bytes();
      reachable_objects += leak.reachable_objects();
      leaking_stacks += leak.leaked_objects() > 0;
    }
    double indirect_bytes = 0, indirect_objects = 0;
    for (const proto::IndirectLeak& leak : last.indirect_leaks()) {
      indirect_bytes += leak.bytes();
      indirect_objects += leak.objects();
    }
    fmt::print("  at exit: {} blocks ({}) definitely leaked from {} stacks, {} more ({}) "
               "indirectly; {} blocks ({}) still reachable\n",
               leaked_objects, HumanBytes(leaked_bytes), leaking_stacks, indirect_objects,
               HumanBytes(indirect_bytes), reachable_objects, HumanBytes(reachable_bytes));
  }
  std::map<uint32_t, SiteEnd> sites;
  for (const proto::Snapshot& snapshot : recording.snapshots) {
    double seconds = static_cast<double>(snapshot.time_ns() - header.start_clock_ns()) / 1e9;
    for (const proto::CallSite& site : snapshot.sites()) {
      auto [it, inserted] = sites.try_emplace(site.stack_id(), SiteEnd{site.stack_id(), site,
                                                                       seconds, site});
      if (!inserted) it->second.last = site;
    }
  }
  std::vector<const SiteEnd*> ranked;
  for (const auto& [id, site] : sites) ranked.push_back(&site);
  std::sort(ranked.begin(), ranked.end(), [](const SiteEnd* a, const SiteEnd* b) {
    return a->last.live_bytes() > b->last.live_bytes();
  });
  double end_seconds = recording.DurationSeconds();
  std::unordered_map<uint32_t, Cohorts> cohorts =
      SiteCohorts(recording, recording.snapshots.size() - 1);
  fmt::print("\ncall sites by live bytes at the end ({} of {}):\n", std::min(top, ranked.size()),
             ranked.size());
  for (size_t i = 0; i < ranked.size() && i < top; ++i) {
    const SiteEnd& site = *ranked[i];
    double span = end_seconds - site.first_seconds;
    double rate = span > 0 ? (site.last.live_bytes() - site.first.live_bytes()) / span : 0;
    fmt::print("#{:<3} live {:>10}  {:>9} objects  allocated {:>10}  change {}/s\n", i + 1,
               HumanBytes(site.last.live_bytes()), site.last.live_objects(),
               HumanBytes(site.last.allocated_bytes()), HumanBytes(rate));
    PrintCohorts(recording, cohorts[site.stack_id]);
    auto stack = recording.stacks.find(site.stack_id);
    if (stack == recording.stacks.end()) continue;
    size_t shown = 0;
    for (uint64_t frame : stack->second) {
      if (shown++ == 8) break;
      fmt::print("       {}\n", ModuleOffset(recording, frame));
    }
  }
}

}  // namespace

void AddInspectCommand(CLI::App& app, int* exit_code) {
  auto path = std::make_shared<std::string>();
  auto top = std::make_shared<size_t>(10);
  CLI::App* inspect = app.add_subcommand("inspect", "Show what a recording holds, unsymbolized");
  inspect->footer("Example:\n  heapdrift inspect server.rec --top 5");
  inspect->add_option("recording", *path, "Recording file")->required();
  AddCountOption(inspect, "--top", top.get(), "How many call sites to list", 1, kMaxTop);
  inspect->callback([path, top, exit_code] {
    Recording recording;
    if (!LoadRecordingForCommand(*path, &recording, exit_code)) return;
    PrintRecording(recording, *path, *top);
    std::vector<TreeMember> later = FindLaterRecordings(*path, recording.header);
    if (!later.empty()) {
      fmt::print("\nprocesses started from it, each recorded beside it "
                 "(heapdrift report {} covers them all):\n", *path);
      for (const TreeMember& member : later) {
        fmt::print("  {}  {}\n", member.path, DescribeProcess(member.header));
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace heapdrift::cli
