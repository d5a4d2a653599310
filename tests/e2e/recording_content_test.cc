// What the agent records about real processes: exact counts in exact mode,
// nothing lost at thread exit, mappings for dlopen'ed code, unbiased
// estimates at the default rate, and growth that tells a leak from churn.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "cohorts.h"
#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

// Every operator new variant arrives at the agent: 100 allocated, 50 live,
// at exactly the size each variant asks malloc or aligned_alloc for.
TEST(RecordingContent, EveryOperatorNewVariantIsSeenExactly) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("new_delete")}, dir.File("new.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("new.rec"));
  std::map<uint64_t, std::pair<int64_t, uint64_t>> by_size;  // size -> (live, allocated)
  for (const auto& [id, site] : FinalSites(recording)) {
    if (site.allocated_objects() == 0) continue;
    uint64_t size = site.allocated_bytes() / site.allocated_objects();
    if (site.allocated_bytes() % site.allocated_objects() != 0) continue;
    by_size[size].first += site.live_objects();
    by_size[size].second += site.allocated_objects();
  }
  for (uint64_t size : {3001u, 3002u, 3003u, 3072u, 3200u}) {
    EXPECT_EQ(by_size[size].first, 50) << "live objects of size " << size;
    EXPECT_EQ(by_size[size].second, 100u) << "allocated objects of size " << size;
  }
}

// 5000 short threads, every 10th keeping one 1234-byte block: all 500 must
// be live at the end, though their threads exited long before.
TEST(RecordingContent, ThreadExitLosesNothingBuffered) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("short_threads"), "5000"}, dir.File("threads.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}}, 240);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("threads.rec"));
  int64_t kept = 0;
  for (const auto& [id, site] : FinalSites(recording)) {
    if (site.allocated_objects() > 0 && site.allocated_bytes() == 1234 * site.allocated_objects()) {
      kept += site.live_objects();
    }
  }
  EXPECT_EQ(kept, 500);
  const proto::AgentStats& stats = recording.snapshots.back().stats();
  EXPECT_EQ(stats.dropped_ring_full() + stats.dropped_no_ring(), 0u);
}

TEST(RecordingContent, DlopenedLibrariesAppearInTheMappingsWithBuildIds) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("dlopen_alloc"), Host("liballoc_plugin.so")},
                                    dir.File("dl.rec"), {{"HEAPDRIFT_SAMPLE_BYTES", "1"},
                                                         {"HEAPDRIFT_INTERVAL_MS", "10"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("dl.rec"));
  bool plugin = false, executable = false;
  for (const auto& mapping : recording.mappings) {
    plugin |= mapping.path().find("liballoc_plugin.so") != std::string::npos &&
              mapping.build_id().size() == 20;
    executable |= mapping.path().find("dlopen_alloc") != std::string::npos;
  }
  EXPECT_TRUE(plugin);
  EXPECT_TRUE(executable);
}

// The statistical test of the estimator at the default rate. The kept site
// holds M = 64 MiB; the variance of its estimate is at most R*M (R = 64 KiB),
// a standard error of 2 MiB = 3.1 %. The bound below is 4 standard errors
// (12.5 %): a false failure about once in 16,000 runs.
TEST(RecordingContent, EstimatedLiveBytesMatchTheTruthAtTheDefaultRate) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("known_live"), "64"}, dir.File("known.rec"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  unsigned long long kept = 0;
  ASSERT_EQ(sscanf(run.out.c_str(), "kept %llu", &kept), 1);
  heapdrift::Recording recording = LoadRecording(dir.File("known.rec"));
  FunctionRange keep = FindFunction(Host("known_live"), "KeepBlock");
  ASSERT_GT(keep.end, keep.start);
  std::set<uint32_t> kept_stacks;
  for (uint32_t id : StacksThrough(recording, Host("known_live"), keep)) kept_stacks.insert(id);
  double estimate = 0;
  for (const auto& [id, site] : FinalSites(recording)) {
    if (kept_stacks.count(id)) estimate += static_cast<double>(site.live_bytes());
  }
  double error = (estimate - static_cast<double>(kept)) / static_cast<double>(kept);
  EXPECT_LT(std::fabs(error), 0.125) << "estimated " << estimate << " of " << kept;
}

// HEAPDRIFT_LEAK_SCAN=1: at exit, every block still live is classified as
// reachable from the program's roots or definitely leaked.
TEST(RecordingContent, TheExitScanTellsLeakedFromReachableBlocks) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("leak_kinds")}, dir.File("leaks.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("leaks.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  const proto::Snapshot& last = recording.snapshots.back();
  ASSERT_TRUE(last.leak_scan_done());
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> by_size;  // size -> (leaked, reachable)
  for (const auto& leak : last.leaks()) {
    uint64_t objects = leak.leaked_objects() + leak.reachable_objects();
    uint64_t bytes = leak.leaked_bytes() + leak.reachable_bytes();
    if (objects == 0 || bytes % objects != 0) continue;
    by_size[bytes / objects].first += leak.leaked_objects();
    by_size[bytes / objects].second += leak.reachable_objects();
  }
  EXPECT_EQ(by_size[1111], std::make_pair(uint64_t{1}, uint64_t{0})) << "the dropped block";
  EXPECT_EQ(by_size[2224], std::make_pair(uint64_t{0}, uint64_t{1})) << "held by a global";
  EXPECT_EQ(by_size[3333], std::make_pair(uint64_t{0}, uint64_t{1})) << "held through a block";
  EXPECT_EQ(by_size[4444], std::make_pair(uint64_t{0}, uint64_t{1})) << "held by thread-local storage";
  EXPECT_EQ(by_size.count(5555), 0u) << "freed blocks are not live";
  EXPECT_EQ(by_size[6666], std::make_pair(uint64_t{0}, uint64_t{1})) << "held from an mmap arena";
  EXPECT_EQ(by_size[7777], std::make_pair(uint64_t{0}, uint64_t{1})) << "on a running thread's stack";
  EXPECT_EQ(by_size[8888], std::make_pair(uint64_t{0}, uint64_t{1})) << "in its thread-local storage";
}

TEST(RecordingContent, TheExitScanNeedsExactMode) {
  TempDir dir;
  ProcessResult run =
      RunUnderAgent({Host("leak_kinds")}, dir.File("leaks.rec"), {{"HEAPDRIFT_LEAK_SCAN", "1"}});
  EXPECT_EQ(run.exit_code, 0);
  auto lines = LinesStartingWith(run.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << run.err;
  EXPECT_NE(lines[0].find("needs exact mode"), std::string::npos);
}

// Least-squares slope of `values` against `seconds`.
double Slope(const std::vector<double>& seconds, const std::vector<double>& values) {
  double n = static_cast<double>(seconds.size()), mean_t = 0, mean_v = 0;
  for (size_t i = 0; i < seconds.size(); ++i) mean_t += seconds[i] / n, mean_v += values[i] / n;
  double covariance = 0, variance = 0;
  for (size_t i = 0; i < seconds.size(); ++i) {
    covariance += (seconds[i] - mean_t) * (values[i] - mean_v);
    variance += (seconds[i] - mean_t) * (seconds[i] - mean_t);
  }
  return covariance / variance;
}

// The incident, end to end: the live bytes of the session site climb at the
// example's true leak rate,
// while the request buffers, by far the most bytes allocated, stay flat.
// Error budget: the sessions alive at any moment (~3 MB) add sampling noise
// of sqrt(R x 3 MB) ~ 0.45 MB to each snapshot, and the leaked samples
// sqrt(R x 4 MB); over 18 snapshots the slope's standard error is ~15 % of
// the ~480 KB/s leak, so the 50 % bound is more than 3 standard errors.
TEST(RecordingContent, SessionLeakGrowsWhileChurnStaysFlat) {
  TempDir dir;
  std::string example = std::string(kExamplesDir) + "/session_leak";
  ProcessResult run = RunUnderAgent({example, "--duration-sec", "12"}, dir.File("leak.rec"),
                                    {{"HEAPDRIFT_INTERVAL_MS", "500"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  double true_rate = 0;
  ASSERT_NE(run.err.find("true leak rate "), std::string::npos) << run.err;
  true_rate = std::stod(run.err.substr(run.err.find("true leak rate ") + 15));
  heapdrift::Recording recording = LoadRecording(dir.File("leak.rec"));
  ASSERT_GE(recording.snapshots.size(), 23u);

  std::set<uint32_t> session_stacks;
  FunctionRange create = FindFunction(example, "shop::SessionStore::CreateSession");
  ASSERT_GT(create.end, create.start);
  for (uint32_t id : StacksThrough(recording, example, create)) session_stacks.insert(id);
  ASSERT_FALSE(session_stacks.empty());
  std::vector<double> live(recording.snapshots.size(), 0), seconds;
  for (uint32_t id : session_stacks) {
    auto series = LiveBytesSeries(recording, id);
    for (size_t i = 0; i < series.size(); ++i) live[i] += static_cast<double>(series[i]);
  }
  // From 2 s to 11 s: after the first sessions expired (the leak starts one
  // TTL in), before the program's own teardown.
  std::vector<double> window;
  for (size_t i = 0; i < recording.snapshots.size(); ++i) {
    double t = static_cast<double>(recording.snapshots[i].time_ns() -
                                   recording.header.start_clock_ns()) / 1e9;
    if (t < 2.0 || t > 11.0) continue;
    seconds.push_back(t);
    window.push_back(live[i]);
  }
  double slope = Slope(seconds, window);
  EXPECT_GT(slope, 0.5 * true_rate) << "estimated " << slope << " B/s, true " << true_rate;
  EXPECT_LT(slope, 1.5 * true_rate) << "estimated " << slope << " B/s, true " << true_rate;

  // The churn site: the one that allocated the most bytes.
  auto sites = FinalSites(recording);
  auto churn = std::max_element(sites.begin(), sites.end(), [](const auto& a, const auto& b) {
    return a.second.allocated_bytes() < b.second.allocated_bytes();
  });
  ASSERT_NE(churn, sites.end());
  EXPECT_GT(churn->second.allocated_bytes(), 500u << 20);
  for (int64_t churn_live : LiveBytesSeries(recording, churn->first)) {
    EXPECT_LT(churn_live, 8 << 20);
  }
}

}  // namespace
}  // namespace heapdrift::testing

namespace heapdrift::testing {
namespace {

// Cohorts, exact mode, a snapshot every 100 ms: every block RememberSession
// allocated is still live, in every cohort it was born in; the scratch
// buffer freed at once keeps nothing in any. The cohorts' live bytes add up
// to the site's own, and their allocations to the site's.
TEST(RecordingContent, CohortsTellMemoryThatNeverDiesFromMemoryThatDoes) {
  TempDir dir;
  ProcessResult traced =
      RunUnderAgent({Host("steady_leak"), "1500", "0"}, dir.File("x.rec"),
                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_INTERVAL_MS", "100"}});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  heapdrift::Recording recording = LoadRecording(dir.File("x.rec"));
  EXPECT_EQ(recording.header.cohorts(), 16u);
  // Before the exit snapshot (teardown frees nothing here, but the rule is the reader's).
  size_t last = recording.snapshots.size() - 2;
  auto cohorts = heapdrift::SiteCohorts(recording, last);
  std::map<uint32_t, proto::CallSite> sites;
  for (size_t i = 0; i <= last; ++i) {
    for (const proto::CallSite& site : recording.snapshots[i].sites()) {
      sites[site.stack_id()] = site;
    }
  }
  auto through = [&](const char* function) {
    std::set<uint32_t> ids;
    for (uint32_t id : StacksThrough(recording, Host("steady_leak"),
                                     FindFunction(Host("steady_leak"), function))) {
      ids.insert(id);
    }
    return ids;
  };
  std::set<uint32_t> leak = through("RememberSession");
  ASSERT_EQ(leak.size(), 1u);
  uint32_t leak_id = *leak.begin();
  int old_cohorts = 0;
  for (const auto& [index, cohort] : cohorts.at(leak_id)) {
    if (cohort.allocated_bytes == 0) continue;
    EXPECT_NEAR(cohort.live_bytes, cohort.allocated_bytes, 0.5) << "cohort " << index;
    old_cohorts += index >= 2;
  }
  EXPECT_GE(old_cohorts, 2) << "15 snapshots span cohorts 0 to 4";
  for (const auto& [id, site_cohorts] : cohorts) {
    double live = 0, allocated = 0;
    for (const auto& [index, cohort] : site_cohorts) {
      live += cohort.live_bytes;
      allocated += cohort.allocated_bytes;
    }
    EXPECT_NEAR(live, static_cast<double>(sites.at(id).live_bytes()), 1.0) << id;
    EXPECT_NEAR(allocated, static_cast<double>(sites.at(id).allocated_bytes()), 1.0) << id;
    if (id != leak_id && sites.at(id).allocated_bytes() > 100'000) {
      // The 1000-byte scratch buffer: allocated often, never kept.
      EXPECT_EQ(live, 0.0) << id;
    }
  }
}

}  // namespace
}  // namespace heapdrift::testing
