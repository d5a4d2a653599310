// heapdrift check end to end: real programs, real process trees (a shell,
// GoogleTest, meson test, Debian's python3 and sqlite3), the verdict, the
// exit code and the JSON and JUnit reports.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paths.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

constexpr int kCheckFailed = 23;

std::string Example(const char* name) { return std::string(kExamplesDir) + "/" + name; }

struct CheckResult {
  ProcessResult process;
  nlohmann::json report;  // the --json file
  std::string junit;      // the --junit file
};

CheckResult Check(const TempDir& dir, std::vector<std::string> options,
                  const std::vector<std::string>& command, int timeout_sec = 240) {
  std::vector<std::string> argv = {kCliPath, "check", "--json", dir.File("check.json"),
                                   "--junit", dir.File("check.xml")};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  CheckResult result;
  result.process = RunProcess(argv, {}, timeout_sec);
  std::string json = ReadFile(dir.File("check.json"));
  if (!json.empty()) result.report = nlohmann::json::parse(json);
  result.junit = ReadFile(dir.File("check.xml"));
  return result;
}

std::vector<nlohmann::json> FailedProcesses(const nlohmann::json& report) {
  std::vector<nlohmann::json> failed;
  for (const auto& process : report["processes"]) {
    if (process["failed"].get<bool>()) failed.push_back(process);
  }
  return failed;
}

// Line of the first line of `file` containing `text` (1-based), 0 if none.
int LineOf(const std::string& file, const std::string& text) {
  std::ifstream in(file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find(text) != std::string::npos) return number;
  }
  return 0;
}

TEST(Check, ALeakOnAnErrorPathFailsNamingTheFunctionAndLine) {
  TempDir dir;
  CheckResult result = Check(dir, {}, {Example("request_parser")});
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  EXPECT_EQ(result.process.out, "150 parsed, 50 rejected\n");  // the program's own output
  ASSERT_EQ(result.report["processes"].size(), 1u);
  const nlohmann::json& process = result.report["processes"][0];
  EXPECT_TRUE(process["failed"].get<bool>());
  EXPECT_EQ(process["leaked_objects"].get<double>(), 50);  // one Request per malformed one
  const nlohmann::json& leak = process["leaks"][0];
  EXPECT_EQ(leak["kind"], "leaked");
  EXPECT_NE(leak["function"].get<std::string>().find("ParseRequest"), std::string::npos);
  std::string source = std::string(kSourceDir) + "/examples/request_parser/request.cc";
  EXPECT_EQ(leak["line"].get<int>(), LineOf(source, "the leaked allocation"));
  EXPECT_NE(leak["file"].get<std::string>().find("request_parser/request.cc"), std::string::npos);
  EXPECT_NE(result.process.err.find("leaked at ParseRequest(...) (request_parser/request.cc:"),
            std::string::npos)
      << result.process.err;
}

TEST(Check, TheFixedProgramPassesAndItsOneTimeGlobalsAreOnlyReachable) {
  TempDir dir;
  CheckResult result = Check(dir, {}, {Example("request_parser"), "--fixed"});
  EXPECT_EQ(result.process.exit_code, 0) << result.process.err;
  EXPECT_TRUE(result.report["passed"].get<bool>());
  const nlohmann::json& process = result.report["processes"][0];
  EXPECT_EQ(process["leaked_objects"].get<double>(), 0);
  // The method table (a map and its three nodes) and the recent paths.
  EXPECT_GE(process["reachable_objects"].get<double>(), 5);
  EXPECT_NE(result.process.err.find("passed"), std::string::npos);
}

TEST(Check, BlocksHeldByARegistryBuiltBeforeTheAgentStartedAreReachable) {
  TempDir dir;
  CheckResult result = Check(dir, {}, {Host("early_registry")});
  EXPECT_EQ(result.process.exit_code, 0) << result.process.err;
  EXPECT_EQ(result.process.out, "registered\n");
  const nlohmann::json& process = result.report["processes"][0];
  EXPECT_EQ(process["leaked_objects"].get<double>(), 0) << result.process.err;
  bool entry_reachable = false;
  for (const auto& leak : process["leaks"]) {
    entry_reachable |= leak["kind"] == "reachable" && leak["bytes"].get<double>() == 9999;
  }
  EXPECT_TRUE(entry_reachable) << result.process.err;
}

TEST(Check, ReachableBlocksFailOnlyWhenAskedTo) {
  TempDir dir;
  CheckResult result = Check(dir, {"--include-reachable"}, {Example("request_parser"), "--fixed"});
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  EXPECT_NE(result.process.err.find("still reachable at"), std::string::npos) << result.process.err;
}

TEST(Check, LeaksUpToTheLimitPass) {
  TempDir dir;
  // 50 leaked Requests of under 100 bytes each.
  EXPECT_EQ(Check(dir, {"--max-leak-bytes", "8KiB"}, {Example("request_parser")}).process.exit_code,
            0);
  EXPECT_EQ(Check(dir, {"--max-leak-bytes", "1KiB"}, {Example("request_parser")}).process.exit_code,
            kCheckFailed);
}

TEST(Check, ASuppressionsFileHidesTheLeakAndTheSummaryCountsIt) {
  TempDir dir;
  std::ofstream(dir.File("supp.txt")) << "# known: fixed in the next release\n\nleak:ParseRequest\n";
  CheckResult result = Check(dir, {"--suppressions", dir.File("supp.txt")},
                             {Example("request_parser")});
  EXPECT_EQ(result.process.exit_code, 0) << result.process.err;
  const nlohmann::json& suppressed = result.report["processes"][0]["suppressed"];
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0]["objects"].get<double>(), 50);
  EXPECT_EQ(suppressed[0]["origin"], dir.File("supp.txt") + ":3");
  EXPECT_NE(result.process.err.find("suppressed"), std::string::npos);
}

// The README's own style: a trailing comment on the line. With
// --print-suppressions, what each one hid, and a warning for one that hid nothing.
TEST(Check, SuppressionsWithTrailingCommentsMatchAndUnusedOnesAreNamed) {
  TempDir dir;
  std::ofstream(dir.File("supp.txt")) << "leak:ParseRequest   # our known bug\n"
                                         "leak:NoSuchFunction # fixed long ago\n";
  CheckResult result = Check(dir, {"--suppressions", dir.File("supp.txt"), "--print-suppressions"},
                             {Example("request_parser")});
  EXPECT_EQ(result.process.exit_code, 0) << result.process.err;
  EXPECT_NE(result.process.err.find("leak:ParseRequest (" + dir.File("supp.txt") + ":1)"),
            std::string::npos)
      << result.process.err;
  EXPECT_NE(result.process.err.find("heapdrift: warning: leak:NoSuchFunction (" +
                                    dir.File("supp.txt") + ":2) matched nothing"),
            std::string::npos)
      << result.process.err;
}

TEST(Check, AGoogleTestBinaryWithOneLeakingTestFailsAndNamesIt) {
  TempDir dir;
  CheckResult result = Check(dir, {}, {Host("gtest_leaky")});
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  ASSERT_EQ(FailedProcesses(result.report).size(), 1u);
  for (const auto& leak : result.report["processes"][0]["leaks"]) {
    if (leak["kind"] != "leaked") continue;
    EXPECT_NE(leak["function"].get<std::string>().find("Cache_ForgetsAnEntry_Test::TestBody"),
              std::string::npos)
        << leak.dump();
  }
  EXPECT_NE(result.process.err.find("Cache_ForgetsAnEntry_Test"), std::string::npos);
}

TEST(Check, MesonTestOverAProjectNamesExactlyTheLeakingExecutable) {
  TempDir dir;
  std::string build = dir.File("build");
  ProcessResult setup = RunProcess({"meson", "setup", build, kDataDir + std::string("/check_project")});
  ASSERT_EQ(setup.exit_code, 0) << setup.out << setup.err;
  ProcessResult compile = RunProcess({"ninja", "-C", build});
  ASSERT_EQ(compile.exit_code, 0) << compile.out << compile.err;
  CheckResult result = Check(dir, {}, {"meson", "test", "-C", build, "--no-rebuild"});
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  std::vector<nlohmann::json> failed = FailedProcesses(result.report);
  ASSERT_EQ(failed.size(), 1u) << result.process.err;
  EXPECT_EQ(failed[0]["command_line"][0], build + "/leaky_test");
  EXPECT_EQ(failed[0]["leaks"][0]["function"], "MakeList");
  // The runner (python3) and the three tests were each checked.
  std::vector<std::string> programs;
  for (const auto& process : result.report["processes"]) {
    programs.push_back(process["command_line"][0]);
  }
  for (const char* test : {"/parse_test", "/leaky_test", "/sort_test"}) {
    EXPECT_EQ(std::count(programs.begin(), programs.end(), build + test), 1) << test;
  }
  // JUnit: a test case per process, one failure.
  EXPECT_EQ(Occurrences(result.junit, "<testcase "), result.report["processes"].size());
  EXPECT_EQ(Occurrences(result.junit, "<failure "), 1u);
  EXPECT_NE(result.junit.find("failures=\"1\""), std::string::npos) << result.junit;
}

// The shell exec's before its first snapshot: the program takes its
// recording over, and is the only process checked.
TEST(Check, AShellThatExecsTheProgramIsFollowedIntoIt) {
  TempDir dir;
  CheckResult result =
      Check(dir, {}, {"sh", "-c", "exec " + Example("request_parser")});
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  ASSERT_EQ(result.report["processes"].size(), 1u) << result.process.err;
  const nlohmann::json& program = result.report["processes"][0];
  EXPECT_NE(program["command_line"][0].get<std::string>().find("request_parser"),
            std::string::npos)
      << program;
  EXPECT_TRUE(program["failed"].get<bool>());
}

// bash defines getenv and setenv itself; the agent once called them from its
// constructor, bash built its variable tables there, unseen, and every
// variable of every bash script then looked leaked.
// With --follow-fork, bash's fork-then-exec of ls leaves a forked recording
// with nothing in it before the exec: ls is listed, that moment is not.
TEST(Check, ABashScriptAndWhatItRunsPass) {
  for (bool follow_fork : {false, true}) {
    SCOPED_TRACE(follow_fork ? "--follow-fork" : "");
    TempDir dir;
    std::vector<std::string> options;
    if (follow_fork) options = {"--follow-fork", "--max-growth", "1MiB"};
    CheckResult result =
        Check(dir, options, {"/bin/bash", "-c", "x=1; export y=2; ls / >/dev/null; echo hi"});
    EXPECT_EQ(result.process.exit_code, 0) << result.process.err;
    EXPECT_EQ(result.process.out, "hi\n");
    ASSERT_EQ(result.report["processes"].size(), 2u) << result.process.err;
    const nlohmann::json& bash = result.report["processes"][0];
    EXPECT_EQ(bash["command_line"][0], "/bin/bash");
    EXPECT_TRUE(bash["leaks_checked"].get<bool>());
    EXPECT_EQ(bash["leaked_objects"].get<double>(), 0) << result.process.err;
    EXPECT_GT(bash["reachable_objects"].get<double>(), 100);  // its variables, seen allocated
    EXPECT_EQ(result.report["processes"][1]["command_line"][0], "ls");
    EXPECT_EQ(result.report["processes"][1]["parent_pid"], bash["pid"]);
  }
}

TEST(Check, TheSessionLeakFailsOnGrowthAndTheFixedServerPasses) {
  TempDir dir;
  // The leak grows ~540 KB/s. The fixed server's ~3.5 MB of live sessions
  // follows its throughput, and a CPU-starved run (CI runs suites side by
  // side) drifts it by up to ~1 MB: over 8 s that stays under 200 KiB/s,
  // which the leak clears 2.5 times over.
  // The page cache is cut to 8 MiB (full in ~0.5 s): the default 48 MiB fills
  // in ~3 s and turns over in ~7 s, and a starved run stretches both, so that
  // in 8 s a cache still filling cannot be told from a leak (a CI run failed
  // so, once). The verdict's cache cases are the report tests' and the bench's.
  std::vector<std::string> options = {"--max-growth", "200KiB", "--interval-ms", "250"};
  std::vector<std::string> server = {Example("session_leak"), "--duration-sec", "8",
                                     "--cache-mib", "8"};
  std::vector<std::string> kept = {"--recordings", dir.File("leaky")};
  kept.insert(kept.end(), options.begin(), options.end());
  CheckResult leaky = Check(dir, kept, server);
  EXPECT_EQ(leaky.process.exit_code, kCheckFailed) << leaky.process.err;
  const nlohmann::json& growth = leaky.report["processes"][0]["growth"];
  // A CI run once found no growth here (the leak check at exit failed it
  // still): the verdict's evidence then says why.
  ASSERT_EQ(growth.size(), 1u)
      << leaky.process.err
      << RunProcess({kCliPath, "report", "--json",
                     dir.File("leaky") + "/" +
                         std::to_string(leaky.report["processes"][0]["pid"].get<int>()) +
                         ".rec"})
             .out;
  EXPECT_NE(growth[0]["function"].get<std::string>().find("SessionStore::CreateSession"),
            std::string::npos);
  EXPECT_GT(growth[0]["growth_bytes_per_sec"].get<double>(), 200 * 1024);

  server.push_back("--fixed");
  CheckResult fixed = Check(dir, options, server);
  EXPECT_EQ(fixed.process.exit_code, 0) << fixed.process.err;
  EXPECT_TRUE(fixed.report["processes"][0]["growth"].empty()) << fixed.process.err;
}

TEST(Check, ASampledRunChecksGrowthOnly) {
  TempDir dir;
  CheckResult result =
      // A leak of ~1.3 MB/s (40 % of sessions) against sampling noise of
      // sqrt(R x ~8 MB live) ~ 0.36 MB per snapshot: its recent rise over
      // ~4 s is expected at z ~ 8, where the verdict asks 2.33.
      Check(dir, {"--sample-bytes", "16384", "--max-growth", "100KiB", "--interval-ms", "250"},
            {Example("session_leak"), "--duration-sec", "8", "--cart-percent", "40",
             "--cache-mib", "8"});  // a cache that fills within the run: see above
  EXPECT_EQ(result.process.exit_code, kCheckFailed) << result.process.err;
  const nlohmann::json& process = result.report["processes"][0];
  EXPECT_FALSE(process["leaks_checked"].get<bool>());
  // The leak comes first; sampling noise may, rarely, carry a small site of
  // the session code over the limit too (seen once in CI: 2 sites).
  ASSERT_FALSE(process["growth"].empty()) << result.process.err;
  EXPECT_NE(process["growth"][0]["function"].get<std::string>().find(
                "SessionStore::CreateSession"),
            std::string::npos)
      << process["growth"].dump();
  EXPECT_NE(result.process.err.find("leaks at exit need exact mode"), std::string::npos);
}

// prefork_workers.c: the parent sets up 8 MiB and forks two workers that
// each keep 2 KiB a millisecond (~1.9 MB/s) for 1.5 s.
TEST(Check, FollowForkChecksEachPreforkedWorkerForGrowthAndLeaks) {
  TempDir dir;
  std::vector<std::string> options = {"--max-growth", "200KiB", "--interval-ms", "100"};
  std::vector<std::string> server = {Host("prefork_workers"), "2", "1500"};
  CheckResult parent_only = Check(dir, options, server);
  EXPECT_EQ(parent_only.process.exit_code, 0) << parent_only.process.err;
  EXPECT_EQ(parent_only.process.out, "2 workers, 0 failed\n");
  EXPECT_EQ(parent_only.report["processes"].size(), 1u) << parent_only.process.err;

  options.push_back("--follow-fork");
  CheckResult followed = Check(dir, options, server);
  EXPECT_EQ(followed.process.exit_code, kCheckFailed) << followed.process.err;
  EXPECT_EQ(followed.process.out, "2 workers, 0 failed\n");
  const nlohmann::json& processes = followed.report["processes"];
  ASSERT_EQ(processes.size(), 3u) << followed.process.err;
  const nlohmann::json& parent = processes[0];  // ordered by start
  EXPECT_FALSE(parent["forked"].get<bool>());
  EXPECT_FALSE(parent["failed"].get<bool>()) << followed.process.err;
  EXPECT_TRUE(parent["leaks_checked"].get<bool>());
  for (size_t i = 1; i < processes.size(); ++i) {
    const nlohmann::json& worker = processes[i];
    SCOPED_TRACE(worker.dump());
    EXPECT_TRUE(worker["forked"].get<bool>());
    EXPECT_EQ(worker["parent_pid"], parent["pid"]);
    EXPECT_TRUE(worker["failed"].get<bool>());
    // Checked for leaks with what it inherited: the 512 blocks of 8 KiB it
    // kept of its parent's are reachable. What leaks is its own: the array
    // WorkerLoop returned, which RunWorker dropped, and the blocks only it
    // held (those that took the place of a block the worker freed are held
    // by the parent's stale pointer to it); nothing inherited is taken for a
    // leak (the parent's second thread was inside malloc at the fork).
    EXPECT_TRUE(worker["leaks_checked"].get<bool>());
    EXPECT_LE(worker["leaked_objects"].get<double>(), 1);
    for (const auto& leak : worker["leaks"]) {
      if (leak["kind"] != "reachable") EXPECT_EQ(leak["function"], "WorkerLoop");
    }
    EXPECT_GE(worker["reachable_bytes"].get<double>(), 512 * 8192.0);
    ASSERT_EQ(worker["growth"].size(), 1u);
    EXPECT_EQ(worker["growth"][0]["function"], "WorkerLoop");
    // The worker keeps one block per ~1 ms of sleep, so its live memory grows
    // steadily over its whole life: the rate is what it kept over how long it
    // lived (not a fixed figure: on a loaded machine its sleeps run long).
    double rate = worker["growth"][0]["growth_bytes_per_sec"].get<double>();
    double kept_per_second =
        worker["growth"][0]["live_bytes"].get<double>() / worker["seconds"].get<double>();
    EXPECT_NEAR(rate, kept_per_second, 0.35 * kept_per_second);
    EXPECT_GT(rate, 400e3);
  }
  EXPECT_EQ(FailedProcesses(followed.report).size(), 2u);
  EXPECT_NE(followed.junit.find("tests=\"3\" failures=\"2\""), std::string::npos)
      << followed.junit;
}

TEST(Check, DebianPython3AndSqlite3PassWithTheBuiltInSuppressions) {
  TempDir dir;
  CheckResult python = Check(
      dir, {},
      {"/usr/bin/python3", "-c",
       "import json, sqlite3, collections\n"
       "rows = [{'id': i, 'name': str(i) * 3} for i in range(20000)]\n"
       "db = sqlite3.connect(':memory:')\n"
       "db.execute('create table t(id, name)')\n"
       "db.executemany('insert into t values (:id, :name)', rows)\n"
       "print(len(json.dumps(rows)), db.execute('select count(*) from t').fetchone()[0])\n"});
  EXPECT_EQ(python.process.exit_code, 0) << python.process.err;
  EXPECT_NE(python.process.out.find(" 20000"), std::string::npos) << python.process.out;

  std::ofstream(dir.File("work.sql"))
      << "create table orders(id integer primary key, customer text, total real);\n"
         "with recursive n(i) as (select 1 union all select i + 1 from n where i < 50000)\n"
         "  insert into orders(customer, total) select 'c' || (i % 977), i * 0.5 from n;\n"
         "create index by_customer on orders(customer);\n"
         "select customer, sum(total) from orders group by customer order by 2 desc limit 3;\n"
         "delete from orders where id % 2 = 0;\n"
         "vacuum;\n"
         "select count(*) from orders;\n";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/sqlite3")) << "install sqlite3";
  CheckResult sqlite = Check(dir, {}, {"sh", "-c", "sqlite3 '" + dir.File("db") + "' < '" +
                                                       dir.File("work.sql") + "'"});
  EXPECT_EQ(sqlite.process.exit_code, 0) << sqlite.process.err;
  EXPECT_NE(sqlite.process.out.find("25000"), std::string::npos) << sqlite.process.out;
  bool saw_sqlite = false;
  for (const auto& process : sqlite.report["processes"]) {
    saw_sqlite |= process["command_line"][0] == "sqlite3" && process["leaks_checked"].get<bool>();
  }
  EXPECT_TRUE(saw_sqlite) << sqlite.process.err;
}

TEST(Check, TheCommandsOwnFailureAndCrashWin) {
  TempDir dir;
  CheckResult failing = Check(dir, {}, {"sh", "-c", "exit 7"});
  EXPECT_EQ(failing.process.exit_code, 7);
  CheckResult crashing = Check(dir, {}, {"sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(crashing.process.exit_code, 128 + 11);
  EXPECT_NE(crashing.process.err.find("crashed: killed by signal 11 (SIGSEGV)"), std::string::npos)
      << crashing.process.err;
  EXPECT_EQ(crashing.report["command_signal"], 11);
}

// A command that ignores SIGTERM (its signals blocked, as a deadlocked host's
// are) is ended at --timeout: SIGTERM, then SIGKILL 5 s later, and so is
// whatever it started; the run fails with 124.
TEST(Check, AHungCommandIsEndedAtTheTimeoutAndFails) {
  TempDir dir;
  auto started = std::chrono::steady_clock::now();
  CheckResult hung = Check(dir, {"--timeout", "2s"},
                           {"bash", "-c", "trap '' TERM; sleep 3007.1 & sleep 3007.2; wait"}, 60);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_FALSE(hung.process.timed_out);
  EXPECT_EQ(hung.process.exit_code, 124) << hung.process.err;
  EXPECT_LT(seconds, 30);
  EXPECT_NE(hung.process.err.find("ran past --timeout and was ended"), std::string::npos)
      << hung.process.err;
  EXPECT_TRUE(hung.report["timed_out"].get<bool>());
  EXPECT_FALSE(hung.report["passed"].get<bool>());
  // Durations no other process here uses (a `sleep 300` of anyone's matched once).
  ProcessResult left = RunProcess({"pgrep", "-f", "^sleep 3007\\.[12]$"});
  EXPECT_EQ(left.out, "") << "the hung command's children were left running";
}

// `timeout 2 heapdrift check -- CMD`: the SIGTERM is forwarded; a command
// that ignores it is killed after the grace period instead of waited for.
TEST(Check, AForwardedSigtermThatIsIgnoredEndsInSigkill) {
  ProcessResult result = RunProcess(
      {"timeout", "2", kCliPath, "check", "--", "bash", "-c", "trap '' TERM; sleep 302"}, {}, 60);
  EXPECT_FALSE(result.timed_out) << "check waited for a command that ignores SIGTERM";
  EXPECT_EQ(result.exit_code, 124) << result.err;  // timeout(1)'s code: it had to send TERM
  EXPECT_NE(result.err.find("killed by signal 9"), std::string::npos) << result.err;
}

TEST(Check, BadInputGetsOneClearErrorAndADocumentedCode) {
  TempDir dir;
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {kCliPath, "check"});
    return RunProcess(args);
  };
  ProcessResult unknown = run({"--no-such-option", "--", "true"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(LinesStartingWith(unknown.err, "heapdrift:").size(), 1u) << unknown.err;

  ProcessResult missing = run({"--", "/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run '/no/such/program'"), std::string::npos) << missing.err;

  ProcessResult unreadable = run({"--suppressions", dir.File("absent.txt"), "--", "true"});
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_NE(unreadable.err.find("cannot read suppressions file " + dir.File("absent.txt")),
            std::string::npos)
      << unreadable.err;

  std::ofstream(dir.File("bad.txt")) << "leak:fine\n# comment\nrace:Something\n";
  ProcessResult malformed = run({"--suppressions", dir.File("bad.txt"), "--", "true"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find(dir.File("bad.txt") + ":3: expected 'leak:PATTERN'"),
            std::string::npos)
      << malformed.err;
  EXPECT_EQ(LinesStartingWith(malformed.err, "heapdrift:").size(), 1u);

  std::filesystem::create_directories(dir.File("used"));
  std::ofstream(dir.File("used/1.rec")) << "old";
  ProcessResult used = run({"--recordings", dir.File("used"), "--", "true"});
  EXPECT_EQ(used.exit_code, 1);
  EXPECT_NE(used.err.find("is not empty"), std::string::npos) << used.err;

  ProcessResult bad_size = run({"--max-growth", "lots", "--", "true"});
  EXPECT_EQ(bad_size.exit_code, 2) << bad_size.err;

  // Values that used to wrap around and turn the check off.
  for (std::vector<std::string> bad :
       {std::vector<std::string>{"--max-growth", "-5"}, {"--max-leak-bytes", "-1"},
        {"--max-growth", "18446744073709551616"}, {"--top", "0"}, {"--timeout", "-1s"},
        {"--sample-bytes", "1.5"}, {"--interval-ms", "5"}}) {
    std::vector<std::string> args = bad;
    args.insert(args.end(), {"--", "true"});
    ProcessResult refused = run(args);
    EXPECT_EQ(refused.exit_code, 2) << bad[0] << " " << bad[1] << ": " << refused.err;
    ASSERT_EQ(LinesStartingWith(refused.err, "heapdrift:").size(), 1u) << refused.err;
    EXPECT_NE(refused.err.find(bad[0]), std::string::npos) << refused.err;
  }
  // Size units are taken wherever a size is.
  ProcessResult units = run({"--sample-bytes", "64KiB", "--max-growth", "1MiB", "--", "true"});
  EXPECT_EQ(units.exit_code, 0) << units.err;
}

}  // namespace
}  // namespace heapdrift::testing
