// Debian's nginx, a pre-forking server: a master forks worker processes
// (without exec) that serve every request. Under wrk from a second process,
// with the agent following forks, it serves the same responses as without,
// stops gracefully, and each worker leaves its own complete recording.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "paths.h"
#include "recording_queries.h"
#include "system_support.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

constexpr int kWorkers = 2;

// A server on 127.0.0.1 serving one 64 KiB page, gzipped per request (zlib
// state comes from nginx's pools, which come from malloc).
std::string WriteServer(const TempDir& dir, const std::string& port) {
  std::filesystem::create_directories(dir.File("www"));
  std::ofstream page(dir.File("www/index.html"));
  for (int line = 0; line < 1024; ++line) page << "line " << line << " of the page, gzip me\n";
  page.close();
  std::ofstream config(dir.File("nginx.conf"));
  config << "daemon off;\nmaster_process on;\nworker_processes " << kWorkers << ";\n"
         << "user root;\npid " << dir.File("nginx.pid") << ";\nerror_log "
         << dir.File("error.log") << ";\nevents { worker_connections 256; }\n"
         << "http {\n  access_log off;\n  gzip on;\n"
         << "  gzip_min_length 0;\n  client_body_temp_path " << dir.File("body") << ";\n"
         << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << dir.File("www")
         << ";\n  }\n}\n";
  return dir.File("nginx.conf");
}

// Starts nginx (under `server_prefix`), drives it with wrk for 3 s, fetches
// the page once, then asks for a graceful stop. Prints the response checks.
ProcessResult RunNginxLoad(const TempDir& dir, const std::string& server_prefix) {
  std::string port = FreeLoopbackPort();
  std::string config = WriteServer(dir, port);
  std::string url = "http://127.0.0.1:" + port + "/index.html";
  std::string script =
      "set -e\n" + server_prefix + " nginx -e " + dir.File("error.log") + " -c " + config +
      " &\nserver=$!\n"
      "for i in $(seq 100); do python3 -c 'import urllib.request,sys; "
      "urllib.request.urlopen(sys.argv[1])' " + url + " 2>/dev/null && break; sleep 0.1; done\n"
      "wrk -t 2 -c 16 -d 3s -H 'Accept-Encoding: gzip' " + url + " > " + dir.File("wrk.txt") +
      "\n"
      "grep -c 'Non-2xx\\|Socket errors' " + dir.File("wrk.txt") + " || true\n"
      "python3 -c 'import urllib.request,sys,hashlib; "
      "print(hashlib.sha256(urllib.request.urlopen(sys.argv[1]).read()).hexdigest())' " + url +
      "\nnginx -e " + dir.File("error.log") + " -c " + config + " -s quit\n"
      "wait $server\n";
  return RunProcess({"sh", "-c", script}, {}, 300);
}

uint64_t RequestsServed(const TempDir& dir) {
  std::ifstream wrk(dir.File("wrk.txt"));
  std::string text((std::istreambuf_iterator<char>(wrk)), {});
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("(\\d+) requests in"))) return 0;
  return std::stoull(match[1]);
}

TEST(Nginx, WorkersServeTheSameResponsesAndEachLeavesARecording) {
  ASSERT_TRUE(Installed("nginx") && Installed("wrk")) << "install nginx-light and wrk";
  TempDir plain_dir;
  ProcessResult plain = RunNginxLoad(plain_dir, "");
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  ASSERT_GT(RequestsServed(plain_dir), 1000u);

  TempDir dir;
  std::string recording = dir.File("nginx.rec");
  ProcessResult traced = RunNginxLoad(
      dir, std::string(kCliPath) + " run --follow-fork --interval-ms 200 -o " + recording + " --");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, plain.out);  // no error responses, same page
  EXPECT_GT(RequestsServed(dir), 1000u);
  // The agent says nothing; run says, in one line, where the workers went.
  std::vector<std::string> said = LinesStartingWith(traced.err, "heapdrift:");
  ASSERT_EQ(said.size(), 1u) << traced.err;
  EXPECT_NE(said[0].find("heapdrift report " + recording + " covers them all"), std::string::npos);

  heapdrift::Recording master = LoadRecording(recording);
  std::vector<std::string> workers = FollowedRecordings(recording);
  for (const std::string& path : workers) {
    SCOPED_TRACE(path);
    heapdrift::Recording worker = LoadRecording(path);
    EXPECT_EQ(worker.header.parent_pid(), master.header.pid());
    ExpectSoundRecording(path);
  }
  EXPECT_EQ(workers.size(), static_cast<size_t>(kWorkers));
}

// The incident route for a prefork server: nginx started with the agent
// asleep and following forks, so each worker is a dormant agent of its own
// (`prefix`), or started without it (each worker entered on its own); one
// worker attached to for 10 s in the middle of wrk's load (12 s). Every response is
// still a 2xx, and the worker's recording is its own.
void AttachAWorkerMidLoad(const std::string& prefix, bool forked_by_agent) {
  ASSERT_TRUE(Installed("nginx") && Installed("wrk")) << "install nginx-light and wrk";
  TempDir dir;
  std::string port = FreeLoopbackPort();
  std::string config = WriteServer(dir, port);
  std::string url = "http://127.0.0.1:" + port + "/index.html";
  std::string recording = dir.File("worker.rec");
  std::string script =
      "set -e\n" +
      prefix + " nginx -e " +
      dir.File("error.log") + " -c " + config + " &\n"
      "server=$!\n"
      "trap 'kill $server 2>/dev/null || true' EXIT\n"
      "for i in $(seq 100); do python3 -c 'import urllib.request,sys; "
      "urllib.request.urlopen(sys.argv[1])' " + url + " 2>/dev/null && break; sleep 0.1; done\n"
      "wrk -t 2 -c 16 -d 12s -H 'Accept-Encoding: gzip' " + url + " > " + dir.File("wrk.txt") +
      " &\n"
      "load=$!\n"
      "sleep 1\n"
      // The busiest worker (most CPU so far): the load may go to one
      // worker more than others, and an idle worker sits in epoll_wait,
      // where entering would make it fail with EINTR (attach waits for it
      // to run instead, and gives up after 5 s).
      "worker=$(for w in $(cat /proc/$server/task/$server/children); do "
      "echo \"$(awk '{print $14+$15}' /proc/$w/stat) $w\"; done | sort -n | tail -1 | "
      "cut -d' ' -f2)\n"
      "echo worker $worker\n" +
      kCliPath + " attach $worker --duration 10s --interval-ms 200 -o " + recording + "\n"
      "wait $load\n"
      "grep -c 'Non-2xx\\|Socket errors' " + dir.File("wrk.txt") + " || true\n"
      "nginx -e " + dir.File("error.log") + " -c " + config + " -s quit\n"
      "wait $server\n";
  ProcessResult run = RunProcess({"sh", "-c", script}, {}, 300);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("attached to the running process"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.substr(run.out.size() - 2), "0\n")  // no error responses
      << run.out << ReadFile(dir.File("wrk.txt")) << ReadFile(dir.File("error.log"));
  EXPECT_GT(RequestsServed(dir), 1000u);
  ExpectSoundRecording(recording);
  heapdrift::Recording worker = LoadRecording(recording);
  EXPECT_TRUE(worker.header.attached());
  EXPECT_EQ(worker.header.forked(), forked_by_agent);
  EXPECT_NE(run.out.find("worker " + std::to_string(worker.header.pid())), std::string::npos)
      << run.out;
  EXPECT_GE(worker.snapshots.size(), 8u);
}

TEST(Nginx, AWorkerAttachedMidLoadServesOnAndRecordsOnItsOwn) {
  AttachAWorkerMidLoad(
      "LD_PRELOAD=" + std::string(kAgentPath) + " HEAPDRIFT_DORMANT=1 HEAPDRIFT_FOLLOW=all", true);
}

// Entered without the agent preloaded: the worker is borrowed only while
// it runs its own code (never inside epoll_wait, where it would get EINTR).
TEST(Nginx, AWorkerEnteredMidLoadServesOnAndRecordsOnItsOwn) {
  AttachAWorkerMidLoad("", false);
}

}  // namespace
}  // namespace heapdrift::testing
