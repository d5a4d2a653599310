// heapdrift serve against real agents: many processes at once, agents killed,
// garbage on the socket, a daemon restart, retention, bad flags, churn.
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "chromium.h"
#include "heapdrift.pb.h"
#include "paths.h"
#include "recording_format.h"
#include "recording.h"
#include "segments.h"
#include "serve_daemon.h"
#include "spawned_process.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

using namespace std::chrono_literals;

Environment AgentEnvironment(const ServeDaemon& daemon, const std::string& interval_ms = "200") {
  return {{"LD_PRELOAD", kAgentPath},
          {"HEAPDRIFT_OUTPUT", "unix:" + daemon.socket()},
          {"HEAPDRIFT_RECONNECT", "1"},
          {"HEAPDRIFT_INTERVAL_MS", interval_ms}};
}

// Sends `bytes` on a new connection to the daemon's socket, then hangs up.
void SendRaw(const std::string& socket_path, const std::string& bytes) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, socket_path.c_str());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
}

// The value of the first sample of `name` whose labels contain `labels`.
double Metric(const std::string& text, const std::string& name, const std::string& labels = "") {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0 || line.find(labels) == std::string::npos) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

uint64_t SegmentBytes(const std::string& root) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root, error)) {
    uint64_t index = 0;
    if (entry.is_regular_file() && ParseSegmentName(entry.path().filename(), &index)) {
      total += entry.file_size();
    }
  }
  return total;
}

size_t OpenDescriptors(pid_t pid) {
  size_t count = 0;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       it != std::filesystem::directory_iterator(); ++it) {
    ++count;
  }
  return count;
}

uint64_t ResidentBytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

TEST(Serve, KeepsEveryProcessThroughKilledAgentsGarbageAndADaemonRestart) {
  TempDir dir;
  ServeDaemon daemon(dir, {"--refresh", "200ms"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  std::string leak = std::string(kExamplesDir) + "/session_leak";
  std::vector<std::unique_ptr<SpawnedProcess>> agents;
  auto start = [&](const std::vector<std::string>& argv) {
    agents.push_back(std::make_unique<SpawnedProcess>(
        argv, AgentEnvironment(daemon), dir.File("agent" + std::to_string(agents.size()) + ".log")));
  };
  start({leak, "--duration-sec", "6", "--seed", "1"});
  start({Host("steady_leak"), "6000", "0"});
  start({std::string(kBenchDir) + "/churn", "1", "100000", "bare"});  // killed below
  start({Host("steady_leak"), "1000", "0"});  // leaves early
  std::this_thread::sleep_for(700ms);
  start({leak, "--duration-sec", "5", "--seed", "2"});  // connects later
  ASSERT_TRUE(WaitFor([&] { return Metric(daemon.Get("/metrics").body, "heapdrift_agents") == 5; },
                      10s))
      << daemon.Get("/metrics").body;
  EXPECT_EQ(agents[3]->Wait(20), 0) << agents[3]->Log();
  // A peer that floods: a header, then snapshots as fast as the socket takes
  // them, for 1.5 s. The others go on being received and scraped meanwhile.
  std::thread flood([&] {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, daemon.socket().c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    auto framed = [](const google::protobuf::MessageLite& message) {
      std::string payload = message.SerializeAsString();
      return std::string(1, static_cast<char>(payload.size())) + payload;  // < 128 bytes
    };
    proto::Header header;
    header.set_magic(format::kRecordingMagic);
    header.set_format_version(1);
    std::string bytes = framed(header);
    auto until = std::chrono::steady_clock::now() + 1500ms;
    for (uint64_t sequence = 0; std::chrono::steady_clock::now() < until; ++sequence) {
      proto::Snapshot snapshot;
      snapshot.set_sequence(sequence);
      proto::CallSite* site = snapshot.add_sites();
      site->set_stack_id(sequence % 100);
      site->set_live_bytes(static_cast<int64_t>(sequence));
      bytes += framed(snapshot);
      if (bytes.size() > 4096) {
        if (write(fd, bytes.data(), bytes.size()) <= 0) break;
        bytes.clear();
      }
    }
    close(fd);
  });
  std::string during_flood;
  EXPECT_TRUE(WaitFor([&] {
    during_flood = daemon.Get("/metrics").body;
    return during_flood.find("comm=\"e2e_tests\"") != std::string::npos;
  }, 1400ms)) << "scraped while flooded:\n" << during_flood;
  EXPECT_EQ(Metric(during_flood, "heapdrift_agents"), 5);  // 4 agents (1 has left) and the flood
  flood.join();
  SendRaw(daemon.socket(), "GET / HTTP/1.0\r\n\r\nnot a recording at all");
  SendRaw(daemon.socket(), std::string("\xff\xff\xff\xff\x7f", 5) + "a flood's huge length");
  agents[2]->Signal(SIGKILL);  // mid-record
  EXPECT_EQ(agents[2]->Wait(10), 128 + SIGKILL);
  ASSERT_TRUE(WaitFor([&] {
    return Metric(daemon.Get("/metrics").body, "heapdrift_daemon_rejected_connections_total") == 2;
  }, 10s)) << daemon.Get("/metrics").body;

  daemon.Kill(SIGKILL);  // the daemon dies mid-run; the agents keep their state and reconnect
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  for (size_t i = 0; i < agents.size(); ++i) {
    if (i != 2) {
      EXPECT_EQ(agents[i]->Wait(60), 0) << agents[i]->Log();
    }
  }
  ASSERT_TRUE(WaitFor([&] { return Metric(daemon.Get("/metrics").body, "heapdrift_agents") == 0; },
                      10s));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();

  std::vector<std::string> processes = daemon.ProcessDirectories();
  ASSERT_EQ(processes.size(), 6u) << daemon.Log();
  size_t finished = 0, restarted = 0;
  for (const std::string& process : processes) {
    Recording recording;
    ReadResult read = ReadRecording(process, &recording);
    ASSERT_EQ(read.status, ReadStatus::kOk) << read.message;
    ASSERT_GE(recording.snapshots.size(), 3u) << process;
    bool killed = process.find("churn") != std::string::npos;
    if (process.find("e2e_tests") != std::string::npos) {  // the flood: this test itself
      EXPECT_GT(recording.snapshots.size(), 1000u) << "a flood is kept too, every snapshot";
      continue;
    }
    // Cohorts survive only when the snapshots on disk run from 0 without a
    // gap: no complete snapshot was lost, across the restart too.
    EXPECT_GT(recording.header.cohorts(), 0u) << process << " lost snapshots";
    EXPECT_EQ(recording.snapshots.back().final(), !killed) << process;
    finished += recording.snapshots.back().final();
    restarted += ListSegments(process).size() >= 2;
    ProcessResult report = RunProcess({kCliPath, "report", process});
    EXPECT_EQ(report.exit_code, 0) << report.err;
  }
  EXPECT_EQ(finished, 4u);
  EXPECT_GE(restarted, 3u) << "the agents still running at the restart continue in a new segment";
  auto leak_directory = std::find_if(processes.begin(), processes.end(), [](const auto& path) {
    return path.find("session_leak") != std::string::npos;
  });
  ASSERT_NE(leak_directory, processes.end());
  ProcessResult report = RunProcess({kCliPath, "report", *leak_directory});
  EXPECT_NE(report.out.find("CreateSession"), std::string::npos) << report.out;
  // Every command reads a process's segments as one recording.
  for (std::vector<std::string> command :
       {std::vector<std::string>{"inspect", *leak_directory},
        {"diff", *leak_directory, "--from", "0.5", "--to", "3"},
        {"export", *leak_directory, "--format", "folded", "-o", dir.File("leak.folded")}}) {
    command.insert(command.begin(), kCliPath);
    ProcessResult result = RunProcess(command);
    EXPECT_EQ(result.exit_code, 0) << command[1] << ": " << result.err;
    if (command[1] == "inspect") continue;  // (frames as module+offset)
    EXPECT_NE((result.out + ReadFile(dir.File("leak.folded"))).find("CreateSession"),
              std::string::npos) << command[1] << ": " << result.out;
  }
}

TEST(Serve, RetentionKeepsWithinTinyLimitsAndDeletesTheOldestFirst) {
  TempDir dir;
  constexpr uint64_t kMaxDisk = 64 << 10;
  ServeDaemon daemon(dir, {"--max-disk", "64KiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  SpawnedProcess agent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "8"},
                       AgentEnvironment(daemon, "20"), dir.File("agent.log"));
  uint64_t most = 0;
  while (agent.Running()) {
    most = std::max(most, SegmentBytes(daemon.directory()));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(agent.Wait(10), 0) << agent.Log();
  // Deleted between rotations: at most one segment (a sixteenth of the
  // limit, at least 16 KiB) over, while that one is being written.
  EXPECT_LE(most, kMaxDisk + 2 * (16 << 10));
  ASSERT_TRUE(WaitFor([&] { return SegmentBytes(daemon.directory()) <= kMaxDisk; }, 15s));
  std::vector<std::string> processes = daemon.ProcessDirectories();
  ASSERT_EQ(processes.size(), 1u);
  std::vector<SegmentFile> kept = ListSegments(processes[0]);
  ASSERT_GE(kept.size(), 2u);
  EXPECT_GT(kept.front().index, 1u) << "the oldest went first";
  for (size_t i = 1; i < kept.size(); ++i) EXPECT_EQ(kept[i].index, kept[i - 1].index + 1);
  Recording recording;
  ASSERT_EQ(ReadRecording(processes[0], &recording).status, ReadStatus::kOk);
  EXPECT_TRUE(recording.snapshots.back().final()) << "the newest stays";
  EXPECT_EQ(recording.header.cohorts(), 0u) << "cohorts count from a snapshot that is gone";
  EXPECT_GT(Metric(daemon.Get("/metrics").body, "heapdrift_daemon_deleted_segments_total"), 0);
  ProcessResult report = RunProcess({kCliPath, "report", processes[0]});
  EXPECT_EQ(report.exit_code, 0) << report.err;

  // --retain: a process's recording goes, directory and all, once older.
  std::ofstream(daemon.directory() + "/notes.txt") << "a user's file\n";
  daemon.Stop();
  ServeDaemon short_lived(dir, {"--retain", "2s"});
  ASSERT_TRUE(short_lived.Start()) << short_lived.Log();
  EXPECT_TRUE(WaitFor([&] { return short_lived.ProcessDirectories().empty(); }, 20s));
  EXPECT_TRUE(std::filesystem::exists(daemon.directory() + "/notes.txt"));
}

TEST(Serve, SocketGroupOpensTheSocketToThatGroupOnly) {
  TempDir dir;
  group* nogroup = getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr);
  ServeDaemon daemon(dir, {"--socket-group", "nogroup"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  struct stat socket_status {};
  ASSERT_EQ(stat(daemon.socket().c_str(), &socket_status), 0);
  EXPECT_EQ(socket_status.st_mode & 0777, 0660u);
  EXPECT_EQ(socket_status.st_gid, nogroup->gr_gid);
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(daemon.socket())) << "it removes its own socket";
}

TEST(Serve, BadFlagsAndAnOccupiedSocketAreRefusedWithOneLine) {
  TempDir dir;
  std::string recordings = dir.File("recordings");
  auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {kCliPath, "serve"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, {}, 20);
  };
  std::string listen = "unix:" + dir.File("a.sock");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    const char* says;
  };
  for (const Case& bad : std::vector<Case>{
           {{"--listen", "/tmp/x.sock", "--dir", recordings}, 2, "unix:"},
           {{"--listen", listen, "--dir", recordings, "--http", "0.0.0.0:9464"}, 2, "loopback"},
           {{"--listen", listen, "--dir", recordings, "--http", "127.0.0.1:http"}, 2, "HOST:PORT"},
           {{"--listen", listen, "--dir", recordings, "--group", "session=("}, 2, "regular"},
           {{"--listen", listen, "--dir", recordings, "--group", "=x"}, 2, "NAME=REGEX"},
           {{"--listen", listen, "--dir", recordings, "--max-disk", "1"}, 2, "--max-disk"},
           {{"--listen", listen, "--dir", recordings, "--retain", "-1h"}, 2, "--retain"},
           {{"--listen", listen}, 2, "--dir"},
       }) {
    ProcessResult result = serve(bad.args);
    EXPECT_EQ(result.exit_code, bad.exit_code) << result.err;
    EXPECT_EQ(LinesStartingWith(result.err, "").size(), 1u) << result.err;
    EXPECT_NE(result.err.find(bad.says), std::string::npos) << result.err;
  }
  std::ofstream(dir.File("taken")) << "not a socket\n";
  ProcessResult taken = serve({"--listen", "unix:" + dir.File("taken"), "--dir", recordings});
  EXPECT_EQ(taken.exit_code, 1) << taken.err;
  EXPECT_EQ(ReadFile(dir.File("taken")), "not a socket\n");
}

TEST(Serve, HttpAnswersReportPprofAndBadRequests) {
  TempDir dir;
  ServeDaemon daemon(dir, {"--refresh", "200ms"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  SpawnedProcess agent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "30"},
                       AgentEnvironment(daemon, "250"), dir.File("agent.log"));
  std::string pid = std::to_string(agent.pid());
  // The report's first suspect, once the leak has grown long enough to tell.
  nlohmann::json report;
  auto first_suspect = [&] {
    return report["suspects"].empty() ? std::string()
                                       : report["suspects"][0]["function"].get<std::string>();
  };
  EXPECT_TRUE(WaitFor([&] {
    HttpAnswer answer = daemon.Get("/api/v1/report?pid=" + pid);
    if (answer.status != 200) return false;
    report = nlohmann::json::parse(answer.body);
    return first_suspect().find("CreateSession") != std::string::npos;
  }, 25s));
  EXPECT_NE(first_suspect().find("CreateSession"), std::string::npos) << report.dump(2);

  // The same report as a page (report --html's), opened in a browser.
  HttpAnswer page = daemon.Get("/report?pid=" + pid);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  std::ofstream(dir.File("live.html")) << page.body;
  BrowserRun opened = OpenInChromium(dir.File("live.html"));
  ASSERT_EQ(opened.exit_code, 0) << opened.log;
  EXPECT_NE(opened.dom.find("data-ready=\"1\""), std::string::npos) << opened.log;
  EXPECT_TRUE(UncaughtErrors(opened).empty()) << UncaughtErrors(opened).front();
  EXPECT_NE(opened.dom.find("<h3>#1 shop::SessionStore::CreateSession("), std::string::npos);
  EXPECT_NE(opened.dom.find("data-flame=\"live\""), std::string::npos);
  EXPECT_EQ(daemon.Get("/report?pid=x").status, 400);

  ProcessResult go = RunProcess({"go", "tool", "pprof", "-top",
                                 "http://127.0.0.1:" + std::to_string(daemon.port()) +
                                     "/debug/pprof/heap?pid=" + pid},
                                {{"HOME", dir.path().string()}}, 120);
  ASSERT_EQ(go.exit_code, 0) << go.err << "\n(install golang-go)";
  EXPECT_NE(go.out.find("Type: inuse_space"), std::string::npos) << go.out;
  EXPECT_NE(go.out.find("shop::SessionStore::CreateSession"), std::string::npos) << go.out;

  EXPECT_EQ(daemon.Get("/debug/pprof/heap?pid=abc").status, 400);
  EXPECT_EQ(daemon.Get("/debug/pprof/heap?pid=999999").status, 404);
  EXPECT_EQ(daemon.Get("/api/v1/report?pid=-3").status, 400);
  EXPECT_EQ(daemon.Get("/nowhere").status, 404);
  EXPECT_EQ(daemon.Get("/healthz").body, "ok\n");
  struct stat socket_status {};
  ASSERT_EQ(stat(daemon.socket().c_str(), &socket_status), 0);
  EXPECT_EQ(socket_status.st_mode & 0777, 0600u) << "owner-only by default";
  EXPECT_NE(daemon.Get("/").body.find("/debug/pprof/heap?pid=" + pid), std::string::npos);
}

// Load, scaled down (bench/serve_load.py runs the full hour-equivalent):
// many short-lived processes connecting; what they leave behind must not.
TEST(Serve, ShortLivedProcessesLeaveNoDescriptorsOrMemoryBehind) {
  TempDir dir;
  ServeDaemon daemon(dir, {"--refresh", "100ms"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto wave = [&](int count) {
    std::vector<std::unique_ptr<SpawnedProcess>> processes;
    for (int i = 0; i < count; ++i) {
      processes.push_back(std::make_unique<SpawnedProcess>(
          std::vector<std::string>{Host("steady_leak"), "150", "0"}, AgentEnvironment(daemon, "50"),
          dir.File("wave.log")));
      daemon.Get("/metrics");  // scrapes while they come and go
      std::this_thread::sleep_for(20ms);
    }
    for (auto& process : processes) EXPECT_EQ(process->Wait(30), 0);
    EXPECT_TRUE(WaitFor([&] { return Metric(daemon.Get("/metrics").body, "heapdrift_agents") == 0; },
                        10s));
  };
  wave(20);
  size_t descriptors = OpenDescriptors(daemon.pid());
  uint64_t resident = ResidentBytes(daemon.pid());
  wave(60);
  // (Slack for the scrapes' HTTP sockets the server has not closed yet: a
  // leak per process would be 60.)
  EXPECT_LE(OpenDescriptors(daemon.pid()), descriptors + 2) << "a descriptor per process leaked";
  // Each process's window and resolver go with it: 60 more processes cost
  // nothing lasting (4 MiB of allocator slack allowed).
  EXPECT_LE(ResidentBytes(daemon.pid()), resident + (4 << 20));
  EXPECT_EQ(daemon.ProcessDirectories().size(), 80u);
  EXPECT_EQ(Metric(daemon.Get("/metrics").body, "heapdrift_daemon_connections_total"), 80);
}

}  // namespace
}  // namespace heapdrift::testing
