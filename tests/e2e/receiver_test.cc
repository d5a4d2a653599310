// `heapdrift record --listen`: what a receiver may touch on disk, and what it
// does with peers that are not agents. Real sockets, real agents.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "background_receiver.h"
#include "paths.h"
#include "recording.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

namespace fs = std::filesystem;

using Receiver = BackgroundReceiver;

// A peer that is not an agent: connects, sends `bytes`, closes.
void ConnectAndSend(const std::string& socket, const std::string& bytes) {
  int peer = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket.c_str());
  ASSERT_EQ(connect(peer, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  if (!bytes.empty()) {
    ASSERT_EQ(write(peer, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  }
  close(peer);
}

// A short real agent streaming to `socket`.
ProcessResult StreamOneAgent(const std::string& socket) {
  return RunUnderAgent({Host("new_delete")}, "unix:" + socket, {{"HEAPDRIFT_INTERVAL_MS", "50"}},
                       60);
}

std::string RandomBytes(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(count, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

TEST(Receiver, NeverTouchesAPathThatIsNotASocket) {
  TempDir dir;
  std::string file = dir.File("notes.txt");
  std::ofstream(file) << "my notes\n";
  fs::create_directory(dir.File("a_directory"));
  fs::create_symlink(file, dir.File("link_to_notes"));
  for (const char* name : {"notes.txt", "a_directory", "link_to_notes"}) {
    ProcessResult result = RunProcess(
        {kCliPath, "record", "--listen", "unix:" + dir.File(name), "-o", dir.File("x.rec")}, {}, 10);
    EXPECT_EQ(result.exit_code, 1) << name;
    EXPECT_EQ(LinesStartingWith(result.err, "heapdrift:").size(), 1u) << result.err;
    EXPECT_NE(result.err.find("is not a socket"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir.File("x.rec"))) << name;
  }
  EXPECT_EQ(ReadFile(file), "my notes\n");
  EXPECT_TRUE(fs::is_directory(dir.File("a_directory")));
  EXPECT_TRUE(fs::is_symlink(dir.File("link_to_notes")));
}

TEST(Receiver, ASecondReceiverLeavesTheFirstOneAndItsSocketAlone) {
  TempDir dir;
  std::string socket = dir.File("hd.sock");
  Receiver first(socket, dir.File("first.rec"));
  ASSERT_TRUE(first.WaitUntilListening());
  ProcessResult second =
      RunProcess({kCliPath, "record", "--listen", "unix:" + socket, "-o", dir.File("second.rec")},
                 {}, 10);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("is in use by another receiver"), std::string::npos) << second.err;
  ASSERT_TRUE(fs::exists(socket)) << "the second receiver removed the first one's socket";
  // The first receiver is still there for the agent that comes next.
  ProcessResult agent = StreamOneAgent(socket);
  EXPECT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_EQ(LinesStartingWith(agent.err, "heapdrift:"), std::vector<std::string>{});
  const ProcessResult& received = first.Wait();
  EXPECT_EQ(received.exit_code, 0) << received.err;
  EXPECT_TRUE(LoadRecording(dir.File("first.rec")).snapshots.back().final());
  EXPECT_FALSE(fs::exists(dir.File("second.rec")));
  EXPECT_FALSE(fs::exists(socket)) << "the first receiver removes its own socket at the end";
}

TEST(Receiver, ReplacesAStaleSocket) {
  TempDir dir;
  std::string socket = dir.File("stale.sock");
  int dead = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket.c_str());
  ASSERT_EQ(bind(dead, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  close(dead);  // the file stays, nobody listens: a receiver that died
  Receiver receiver(socket, dir.File("x.rec"));
  // The stale file is there from the start: wait until someone answers on it.
  bool answered = false;
  for (int i = 0; i < 200 && !answered; ++i) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM, 0);
    answered = connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(probe);
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(answered);
  EXPECT_EQ(StreamOneAgent(socket).exit_code, 0);
  const ProcessResult& received = receiver.Wait();
  EXPECT_EQ(received.exit_code, 0) << received.err;
  EXPECT_FALSE(LoadRecording(dir.File("x.rec")).snapshots.empty());
}

// Peers that close at once, send random bytes, or stop in the middle of a
// record are dropped and counted; none of them ends the session.
TEST(Receiver, PeersThatAreNotAgentsAreDroppedAndTheSessionGoesOn) {
  TempDir dir;
  // A real recording's first bytes, to stop in the middle of its second record.
  ASSERT_EQ(RunUnderAgent({Host("new_delete")}, dir.File("file.rec")).exit_code, 0);
  std::string real = ReadFile(dir.File("file.rec"));
  uint64_t header_length = 0;
  int prefix = heapdrift::ParseRecordPrefix(real.data(), real.size(), &header_length);
  ASSERT_GT(prefix, 0);
  size_t header_end = static_cast<size_t>(prefix) + header_length;
  ASSERT_GT(real.size(), header_end + 8);

  std::string socket = dir.File("hd.sock");
  Receiver receiver(socket, dir.File("x.rec"));
  ASSERT_TRUE(receiver.WaitUntilListening());
  ConnectAndSend(socket, "");
  ConnectAndSend(socket, RandomBytes(4096, 1));
  ConnectAndSend(socket, RandomBytes(3, 2));
  ConnectAndSend(socket, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(fs::exists(socket)) << "a peer that sent no recording ended the session";
  // A real agent, and beside it one cut off in its second record: an agent
  // (the session waits for it) that sent no snapshot, so it leaves no file.
  ProcessResult agent;
  std::thread streaming([&] {
    agent = RunUnderAgent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "2"},
                          "unix:" + socket, {{"HEAPDRIFT_INTERVAL_MS", "100"}}, 60);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ConnectAndSend(socket, real.substr(0, header_end + 5));
  streaming.join();
  EXPECT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_EQ(LinesStartingWith(agent.err, "heapdrift:"), std::vector<std::string>{});
  const ProcessResult& received = receiver.Wait();
  EXPECT_EQ(received.exit_code, 0) << received.err;
  EXPECT_NE(received.err.find("dropped 4 connection(s) that sent no recording"), std::string::npos)
      << received.err;
  EXPECT_TRUE(LoadRecording(dir.File("x.rec")).snapshots.back().final());
  int cut_recordings = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().rfind("x.rec.", 0) != 0) continue;
    ++cut_recordings;
    heapdrift::Recording cut;
    EXPECT_EQ(heapdrift::ReadRecording(entry.path().string(), &cut).status, heapdrift::ReadStatus::kOk);
    EXPECT_TRUE(cut.snapshots.empty());
  }
  EXPECT_EQ(cut_recordings, 0);
}

TEST(Receiver, TwentyAgentsAtOnce) {
  TempDir dir;
  std::string socket = dir.File("hd.sock");
  Receiver receiver(socket, dir.File("x.rec"));
  ASSERT_TRUE(receiver.WaitUntilListening());
  // Each agent runs long enough for all of them to be connected together.
  std::vector<std::thread> agents;
  std::vector<ProcessResult> results(20);
  for (size_t i = 0; i < results.size(); ++i) {
    agents.emplace_back([&, i] {
      results[i] = RunUnderAgent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "2"},
                                 "unix:" + socket, {{"HEAPDRIFT_INTERVAL_MS", "100"}}, 60);
    });
  }
  for (std::thread& agent : agents) agent.join();
  for (const ProcessResult& result : results) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(LinesStartingWith(result.err, "heapdrift:"), std::vector<std::string>{});
  }
  const ProcessResult& received = receiver.Wait();
  EXPECT_EQ(received.exit_code, 0) << received.err;
  int recordings = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().rfind("x.rec", 0) != 0) continue;
    ++recordings;
    heapdrift::Recording recording = LoadRecording(entry.path().string());
    EXPECT_GE(recording.snapshots.size(), 10u) << entry.path();
    EXPECT_TRUE(recording.snapshots.back().final()) << entry.path();
  }
  EXPECT_EQ(recordings, 20);
}

}  // namespace
}  // namespace heapdrift::testing
