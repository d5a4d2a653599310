// Debian's redis-server (over its own jemalloc) under redis-benchmark: a
// SET phase that grows the keyspace, then a GET-only phase. With the agent
// it must behave as without, and `report` must see growth at redis's
// key-creation call sites during SET and none during GET.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "growth_report.h"
#include "paths.h"
#include "recording_queries.h"
#include "system_support.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

struct RedisRun {
  ProcessResult process;
  double set_start = 0, set_end = 0, get_end = 0;  // Unix seconds
  long keys = 0;
};

// The two phases against a redis-server that `server_prefix` starts (empty:
// plain; else `heapdrift run ... --`), on a port of its own.
RedisRun RunRedisPhases(const TempDir& dir, const std::string& server_prefix) {
  std::string port = FreeLoopbackPort();
  std::string script =
      "set -e\n"
      "P=" + port + "\n" +
      server_prefix + " redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no "
      "  --daemonize no >" + dir.File("server.log") + " 2>&1 &\n"
      "server=$!\n"
      "for i in $(seq 100); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done\n"
      "date +%s.%N\n"
      "redis-benchmark -p $P -t set -n 300000 -r 100000000 -d 64 -c 20 -q | tr '\\r' '\\n' | "
      "  grep 'requests per second'\n"
      "date +%s.%N\n"
      "redis-benchmark -p $P -t get -n 300000 -r 100000000 -c 20 -q | tr '\\r' '\\n' | "
      "  grep 'requests per second'\n"
      "date +%s.%N\n"
      "redis-cli -p $P dbsize\n"
      "redis-cli -p $P shutdown nosave >/dev/null 2>&1 || true\n"
      "wait $server || true\n";
  RedisRun run;
  run.process = RunProcess({"sh", "-c", script}, {}, 300);
  std::istringstream lines(run.process.out);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) all.push_back(line);
  if (all.size() >= 6) {
    run.set_start = std::stod(all[0]);
    run.set_end = std::stod(all[2]);
    run.get_end = std::stod(all[4]);
    run.keys = std::stol(all[5]);
  }
  return run;
}

TEST(Redis, BehavesAsWithoutTheAgentAndGrowsOnlyWhileKeysAreAdded) {
  ASSERT_TRUE(Installed("redis-server") && Installed("redis-benchmark"))
      << "install redis-server and redis-tools";
  TempDir dir;
  RedisRun plain = RunRedisPhases(dir, "");
  ASSERT_EQ(plain.process.exit_code, 0) << plain.process.err;
  std::string recording = dir.File("redis.rec");
  RedisRun traced = RunRedisPhases(
      dir, std::string(kCliPath) + " run --interval-ms 200 -o " + recording + " --");
  ASSERT_EQ(traced.process.exit_code, 0) << traced.process.err;
  EXPECT_EQ(Occurrences(plain.process.out, "requests per second"), 2u) << plain.process.out;
  EXPECT_EQ(Occurrences(traced.process.out, "requests per second"), 2u) << traced.process.out;
  // Random keys: both runs create ~300,000 distinct ones.
  EXPECT_NEAR(static_cast<double>(traced.keys), static_cast<double>(plain.keys),
              0.01 * static_cast<double>(plain.keys));
  EXPECT_GT(traced.keys, 290000);

  ExpectSoundRecording(recording);
  heapdrift::Recording loaded = LoadRecording(recording);
  heapdrift::ReportOptions set_phase;
  set_phase.from_seconds = SecondsIntoRecording(loaded, traced.set_start);
  set_phase.to_seconds = SecondsIntoRecording(loaded, traced.set_end);
  heapdrift::CallSiteResolver resolver(loaded);
  heapdrift::GrowthReport during_set = heapdrift::BuildGrowthReport(resolver, set_phase);
  ASSERT_FALSE(during_set.growing.empty()) << "snapshots: " << during_set.snapshots;
  const std::set<std::string> key_creation = {"dictAddRaw", "createObject", "_sdsnewlen",
                                              "sdsnewlen", "createStringObject", "dbAdd",
                                              "setKey", "dictExpand", "_dictExpand"};
  size_t key_sites = 0;
  for (const heapdrift::SiteReport& site : during_set.growing) {
    key_sites += key_creation.count(site.site.function);
    EXPECT_EQ(site.site.function.rfind("zmalloc", 0), std::string::npos) << "a wrapper named";
  }
  EXPECT_GE(key_sites, 1u) << "top site: " << during_set.growing[0].site.Describe();

  heapdrift::ReportOptions get_phase;
  get_phase.from_seconds = SecondsIntoRecording(loaded, traced.set_end) + 0.5;
  get_phase.to_seconds = SecondsIntoRecording(loaded, traced.get_end);
  heapdrift::GrowthReport during_get = heapdrift::BuildGrowthReport(resolver, get_phase);
  EXPECT_GE(during_get.snapshots, 4u);
  for (const heapdrift::SiteReport& site : during_get.growing) {
    ADD_FAILURE() << "grows during GET: " << site.site.Describe() << " at "
                  << site.growth_bytes_per_sec << " B/s";
  }
}

// The incident route: redis-server started with the agent asleep
// (`prefix`), or without it (entered), attached for 10 s in the middle of
// a SET benchmark (two million keys: 15 s to 35 s here, as busy as the
// machine is), for 6 s from 1 s in: the keys are still being created when
// the attach ends, even on a fast day (a million keys once took 7 s, and a
// 10 s attach saw them stop: a plateau, rightly). The benchmark completes
// with every key, and the attached recording finds growth where keys are
// created.
void AttachMidBenchmark(const std::string& prefix) {
  ASSERT_TRUE(Installed("redis-server") && Installed("redis-benchmark"))
      << "install redis-server and redis-tools";
  TempDir dir;
  std::string port = FreeLoopbackPort();
  std::string recording = dir.File("attached.rec");
  std::string script =
      "set -e\n"
      "P=" + port + "\n"
      "benchmark=\n" +
      prefix + " redis-server --port $P "
      "  --bind 127.0.0.1 --save '' --appendonly no --daemonize no >" + dir.File("server.log") +
      " 2>&1 &\n"
      "server=$!\n"
      "trap 'kill $server $benchmark 2>/dev/null || true' EXIT\n"  // nothing outlives a failure
      "for i in $(seq 100); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done\n"
      "redis-benchmark -p $P -t set -n 2000000 -r 100000000 -d 64 -c 20 -q | tr '\\r' '\\n' | "
      "  grep 'requests per second' > " + dir.File("benchmark.out") + " &\n"
      "benchmark=$!\n"
      "sleep 1\n" +
      kCliPath + " attach $server --duration 6s --interval-ms 200 -o " + recording + "\n"
      "wait $benchmark\n"
      "redis-cli -p $P dbsize\n"
      "redis-cli -p $P shutdown nosave >/dev/null 2>&1 || true\n"
      "wait $server || true\n";
  ProcessResult run = RunProcess({"sh", "-c", script}, {}, 300);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("attached to the running process"), std::string::npos) << run.out;
  EXPECT_EQ(Occurrences(ReadFile(dir.File("benchmark.out")), "requests per second"), 1u);
  std::string keys = run.out.substr(run.out.find_last_not_of("\n0123456789") + 1);
  EXPECT_GT(std::stol(keys), 1950000) << run.out;  // 2M SETs of 1e8 random keys: ~20k repeats
  ExpectSoundRecording(recording);
  heapdrift::Recording loaded = LoadRecording(recording);
  EXPECT_TRUE(loaded.header.attached());
  heapdrift::CallSiteResolver resolver(loaded);
  heapdrift::GrowthReport report = heapdrift::BuildGrowthReport(resolver);
  ASSERT_FALSE(report.growing.empty()) << run.out;
  const std::set<std::string> key_creation = {"dictAddRaw", "createObject", "_sdsnewlen",
                                              "sdsnewlen", "createStringObject", "dbAdd",
                                              "setKey", "dictExpand", "_dictExpand"};
  size_t key_sites = 0;
  for (const heapdrift::SiteReport& site : report.growing) {
    key_sites += key_creation.count(site.site.function);
  }
  EXPECT_GE(key_sites, 1u) << run.out;
}

TEST(Redis, AttachedMidBenchmarkFindsGrowthWhereKeysAreCreated) {
  AttachMidBenchmark(std::string("LD_PRELOAD=") + kAgentPath + " HEAPDRIFT_DORMANT=1");
}

TEST(Redis, EnteredMidBenchmarkFindsGrowthWhereKeysAreCreated) { AttachMidBenchmark(""); }

}  // namespace
}  // namespace heapdrift::testing
