// Debian's interpreters and tools with and without the agent: python3
// growing a global list (reported) or not (not reported), sqlite3 on a
// scripted workload, and git on a small repository. Each must print and exit
// exactly as without the agent, and its recording must decode and symbolize.
#include <gtest/gtest.h>

#include <fstream>

#include "growth_report.h"
#include "paths.h"
#include "recording_queries.h"
#include "system_support.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

// Runs `argv` without and with the agent (exact output and exit code must
// match) and returns the recording's path.
std::string RunBoth(const TempDir& dir, const std::string& name,
                    const std::vector<std::string>& argv, Environment env = {}) {
  ProcessResult plain = RunProcess(argv, env, 300);
  std::string recording = dir.File(name + ".rec");
  env.emplace_back("HEAPDRIFT_INTERVAL_MS", "200");
  ProcessResult traced = RunUnderAgent(argv, recording, env, 300);
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_TRUE(LinesStartingWith(traced.err, "heapdrift:").empty()) << traced.err;
  return recording;
}

// A request log that a global list keeps (the leak), or a bounded window of it.
std::string PythonServer(bool keeps_everything) {
  return std::string(
             "import time, json\n"
             "history = []\n"
             "window = []\n"
             "end = time.time() + 4\n"
             "n = 0\n"
             "while time.time() < end:\n"
             "    entry = json.dumps({'id': n, 'user': 'u%d' % (n % 97), 'items': list(range(20))})\n"
             "    n += 1\n") +
         (keeps_everything ? "    history.append(entry.encode() * 4)\n"
                           : "    window.append(entry.encode() * 4)\n"
                             "    if len(window) > 200: window.pop(0)\n") +
         "    if n % 500 == 0: time.sleep(0.01)\n"
         "print('served', 'some' if n > 1000 else 'few')\n";
}

TEST(Python3, AGrowingGlobalListIsReportedAndABoundedOneIsNot) {
  TempDir dir;
  for (bool growing : {true, false}) {
    std::string recording =
        RunBoth(dir, growing ? "grow" : "flat", {"/usr/bin/python3", "-c", PythonServer(growing)});
    ExpectSoundRecording(recording);
    heapdrift::Recording loaded = LoadRecording(recording);
    heapdrift::CallSiteResolver resolver(loaded);
    heapdrift::GrowthReport report = heapdrift::BuildGrowthReport(resolver);
    EXPECT_GE(report.snapshots, 10u);
    if (growing) {
      ASSERT_FALSE(report.growing.empty());
      EXPECT_GT(report.growing[0].growth_bytes_per_sec, 100e3) << report.growing[0].site.Describe();
    } else {
      for (const heapdrift::SiteReport& site : report.growing) {
        // Python's own one-off growth (imports, interning) is small.
        EXPECT_LT(site.growth_bytes_per_sec, 20e3) << site.site.Describe();
      }
    }
  }
}

TEST(Sqlite3, AScriptedWorkloadRunsAsWithoutTheAgent) {
  ASSERT_TRUE(Installed("sqlite3")) << "install sqlite3";
  TempDir dir;
  std::ofstream(dir.File("work.sql"))
      << "create table orders(id integer primary key, customer text, total real);\n"
         "with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000)\n"
         "  insert into orders(customer, total) select 'c' || (i % 977), i * 0.5 from n;\n"
         "create index by_customer on orders(customer);\n"
         "select customer, sum(total) from orders group by customer order by 2 desc limit 3;\n"
         "delete from orders where id % 3 = 0;\n"
         "vacuum;\n"
         "select count(*), sum(total) from orders;\n";
  std::string recording =
      RunBoth(dir, "sqlite", {"sqlite3", ":memory:", ".read " + dir.File("work.sql")});
  ExpectSoundRecording(recording);
}

TEST(Git, OperationsOnASmallRepositoryRunAsWithoutTheAgent) {
  TempDir dir;
  std::string repo = dir.File("repo");
  std::string setup =
      "set -e; git init -q " + repo + "; cd " + repo +
      "; git config user.email t@example.com; git config user.name T;"
      " for i in $(seq 40); do seq $i 500 > f$i.txt; done; git add .; git commit -qm one;"
      " for i in $(seq 20); do echo change >> f$i.txt; done; git commit -qam two";
  ASSERT_EQ(RunProcess({"sh", "-c", setup}).exit_code, 0);
  for (std::vector<std::string> command :
       {std::vector<std::string>{"git", "-C", repo, "log", "--stat", "--format=%s"},
        std::vector<std::string>{"git", "-C", repo, "diff", "HEAD~1", "--stat"},
        std::vector<std::string>{"git", "-C", repo, "gc", "-q"},
        std::vector<std::string>{"git", "-C", repo, "fsck", "--no-progress"}}) {
    std::string recording = RunBoth(dir, command[3], command, {{"GIT_CONFIG_NOSYSTEM", "1"}});
    ExpectSoundRecording(recording);
  }
}

}  // namespace
}  // namespace heapdrift::testing
