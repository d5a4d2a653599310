#include "check_output.h"

#include <gtest/gtest.h>

namespace heapdrift {
namespace {

ProcessCheck Process(uint32_t pid, std::vector<std::string> command, double leaked_bytes) {
  ProcessCheck process;
  process.pid = pid;
  process.command_line = std::move(command);
  process.ending = ProcessEnding::kExited;
  process.leak_scan = true;
  process.leaked_bytes = leaked_bytes;
  process.leaked_objects = leaked_bytes > 0 ? 2 : 0;
  if (leaked_bytes > 0) {
    LeakGroup group;
    group.site = {"Parse<int>(char const*)", "src/parse.cc", 7, "/app/t", 0x1234, false};
    group.stack = {group.site};
    group.bytes = leaked_bytes;
    group.objects = 2;
    process.leaks.push_back(group);
  }
  return process;
}

TEST(CheckJunit, OneTestCasePerProcessEscapedAndFailedWhenItLeaked) {
  CheckRun run;
  run.processes.push_back(Process(10, {"./a", "--name=<x & \"y\">"}, 0));
  run.processes.push_back(Process(11, {"./b"}, 96));
  ProcessCheck replaced = Process(12, {"sh"}, 0);
  replaced.ending = ProcessEnding::kReplacedByExec;
  run.processes.push_back(replaced);
  CheckOptions options;
  std::string xml = CheckJunit(run, options);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos)
      << xml;
  // Named by command line, not pid, so that CI keeps each case's history.
  EXPECT_NE(xml.find("name=\"./a --name=&lt;x &amp; &quot;y&quot;&gt;\""), std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("name=\"pid"), std::string::npos) << xml;
  EXPECT_NE(xml.find("pid 11: ./b"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure type=\"leak\" message=\"96 B leaked in 2 objects\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("Parse&lt;int&gt;"), std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"replaced itself by exec: leaks not checked\"/>"),
            std::string::npos);
}

TEST(CheckJunit, AForkedChildIsJudgedOnGrowthAndSaysWhyItsLeaksWereNot) {
  CheckRun run;
  run.processes.push_back(Process(10, {"./server"}, 0));
  ProcessCheck worker = Process(11, {"./server"}, 0);
  worker.parent_pid = 10;
  worker.forked = true;
  worker.leak_scan = false;
  run.processes.push_back(worker);
  worker.pid = 12;
  worker.growth.push_back({{"Cache::Put", "cache.cc", 9, "/app/server", 0x99, false}, {}, 3e6, 1, 6e6});
  run.processes.push_back(worker);
  CheckOptions options;
  options.max_growth = 100 * 1024;
  std::string xml = CheckJunit(run, options);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"0\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-out>pid 11: ./server\nforked from pid 10 without exec: leaks at "
                     "exit not checked"),
            std::string::npos)
      << xml;
  // Repeats of one command line keep their order of start as an ordinal.
  EXPECT_NE(xml.find("name=\"./server\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"./server #2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"./server #3\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure type=\"growth\" message=\"1 call site grows faster than 100.0 KiB/s\">"),
            std::string::npos)
      << xml;
  nlohmann::json json = CheckJson(run, options, 23);
  EXPECT_FALSE(json["processes"][0]["forked"].get<bool>());
  EXPECT_TRUE(json["processes"][1]["forked"].get<bool>());
  EXPECT_EQ(json["processes"][1]["parent_pid"], 10);
  EXPECT_FALSE(json["processes"][1]["leaks_checked"].get<bool>());
  EXPECT_TRUE(json["processes"][2]["failed"].get<bool>());
}

TEST(CheckJson, HoldsEveryFindingAndTheVerdict) {
  CheckRun run;
  run.command = {"./b"};
  run.processes.push_back(Process(11, {"./b"}, 96));
  CheckOptions options;
  options.max_leak_bytes = 100;  // 96 bytes: under the limit
  nlohmann::json json = CheckJson(run, options, 0);
  EXPECT_TRUE(json["passed"].get<bool>());
  EXPECT_EQ(json["processes"][0]["leaks"][0]["line"], 7);
  EXPECT_EQ(json["processes"][0]["leaks"][0]["function"], "Parse<int>(char const*)");
  options.max_leak_bytes = 0;
  EXPECT_FALSE(CheckJson(run, options, 23)["passed"].get<bool>());
}

TEST(CheckJson, CountsAreIntegers) {
  CheckRun run;
  run.processes.push_back(Process(11, {"./b"}, 96));
  nlohmann::json process = CheckJson(run, CheckOptions{}, 23)["processes"][0];
  for (const char* field : {"leaked_bytes", "leaked_objects", "indirect_bytes", "indirect_objects",
                            "reachable_bytes", "reachable_objects"}) {
    EXPECT_TRUE(process[field].is_number_integer()) << field << ": " << process[field];
  }
  EXPECT_EQ(process["leaked_objects"].dump(), "2");
  EXPECT_TRUE(process["leaks"][0]["bytes"].is_number_integer());
  EXPECT_TRUE(process["leaks"][0]["objects"].is_number_integer());
}

TEST(CheckOutput, IndirectLeaksAloneFailAndAreNamedAsSuch) {
  CheckRun run;
  ProcessCheck process = Process(11, {"./b"}, 0);
  process.indirect_bytes = 4442;
  process.indirect_objects = 1;
  LeakGroup group;
  group.site = {"AllocateNode", "list.c", 12, "/app/b", 0x40, false};
  group.stack = {group.site};
  group.bytes = 4442;
  group.objects = 1;
  group.kind = LeakKind::kIndirect;
  process.leaks.push_back(group);
  run.processes.push_back(process);
  CheckOptions options;
  EXPECT_TRUE(process.Failed(options));
  std::string xml = CheckJunit(run, options);
  EXPECT_NE(xml.find("<failure type=\"leak\" message=\"4.3 KiB leaked in 1 object\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("4.3 KiB indirectly leaked in 1 object; 0 B in 0 objects still reachable"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("4.3 KiB in 1 object indirectly leaked at AllocateNode"), std::string::npos)
      << xml;
  nlohmann::json json = CheckJson(run, options, 23)["processes"][0];
  EXPECT_EQ(json["indirect_bytes"].dump(), "4442");
  EXPECT_EQ(json["indirect_objects"].dump(), "1");
  EXPECT_EQ(json["leaks"][0]["kind"], "indirect");
  options.max_leak_bytes = 4442;  // at the limit: passes
  EXPECT_FALSE(process.Failed(options));
}

TEST(CheckJson, ATimedOutRunFails) {
  CheckRun run;
  run.processes.push_back(Process(11, {"./b"}, 0));
  run.timed_out = true;
  nlohmann::json json = CheckJson(run, CheckOptions{}, 124);
  EXPECT_FALSE(json["passed"].get<bool>());
  EXPECT_TRUE(json["timed_out"].get<bool>());
}

}  // namespace
}  // namespace heapdrift
