// Which existing file a new program image may take over: only a recording
// its own process's earlier image began and left without a complete snapshot.
// Real files, written by the agent's own encoder.
#include "recording_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "byte_buffer.h"
#include "process_identity.h"
#include "proto_writer.h"
#include "snapshot_encoder.h"

namespace heapdrift::agent {
namespace {

std::string HeaderOf(uint32_t pid, uint64_t start_ticks) {
  ByteBuffer buffer;
  ProtoWriter writer(&buffer);
  // A long command line: the identity must still be found in the first bytes.
  std::string command_line(20000, 'a');
  HeaderInfo info{pid, 1, "/usr/bin/server", command_line.data(),
                  static_cast<uint32_t>(command_line.size()), 65536, 2000, 1, 2, 1000, false,
                  pid, start_ticks};
  EncodeHeader(writer, info);
  EXPECT_TRUE(writer.ok());
  return std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size());
}

std::string Snapshot() {
  ByteBuffer buffer;
  ProtoWriter writer(&buffer);
  size_t token = BeginSnapshot(writer, 0, 5, false);
  writer.EndRecord(token);
  return std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size());
}

// Whether a file holding `bytes` may be taken over by `process`.
bool TakenOverBy(const std::string& bytes, const ProcessIdentity& process) {
  char path[] = "/tmp/heapdrift-probe-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  bool taken = IsUnfinishedRecordingOf(fd, process);
  close(fd);
  unlink(path);
  return taken;
}

TEST(RecordingProbe, TakesOverOnlyItsOwnProcesssRecordingWithoutASnapshot) {
  ProcessIdentity me = CurrentProcessIdentity();
  ASSERT_NE(me.start_ticks, 0u) << "no /proc/self/stat";
  std::string header = HeaderOf(me.pid, me.start_ticks);
  EXPECT_TRUE(TakenOverBy(header, me));
  std::string snapshot = Snapshot();
  EXPECT_FALSE(TakenOverBy(header + snapshot, me)) << "it recorded: keep it";
  // A snapshot cut short (exec came in the middle of a write) is none.
  EXPECT_TRUE(TakenOverBy(header + snapshot.substr(0, snapshot.size() - 1), me));
  EXPECT_TRUE(TakenOverBy(header + snapshot.substr(0, 2), me));
  // Another process: another pid, or the same pid reused later.
  EXPECT_FALSE(TakenOverBy(HeaderOf(me.pid + 1, me.start_ticks), me));
  EXPECT_FALSE(TakenOverBy(HeaderOf(me.pid, me.start_ticks + 1), me));
  // Not a recording at all, an empty file, a header cut short.
  EXPECT_FALSE(TakenOverBy("my notes\n", me));
  EXPECT_FALSE(TakenOverBy("", me));
  EXPECT_FALSE(TakenOverBy(header.substr(0, 10), me));
  // A process whose start is unknown takes nothing over.
  EXPECT_FALSE(TakenOverBy(HeaderOf(me.pid, 0), ProcessIdentity{me.pid, 0}));
}

// The identity a process reads before exec is the one the kernel shows for
// the program it execs (cat, reading its own /proc/self/stat).
TEST(RecordingProbe, ProcessIdentityIsKeptAcrossExec) {
  int identity_pipe[2], stat_pipe[2];
  ASSERT_EQ(pipe(identity_pipe), 0);
  ASSERT_EQ(pipe(stat_pipe), 0);
  pid_t child = fork();
  if (child == 0) {
    ProcessIdentity before = CurrentProcessIdentity();
    if (write(identity_pipe[1], &before, sizeof(before)) != sizeof(before)) _exit(1);
    dup2(stat_pipe[1], 1);
    execl("/bin/cat", "cat", "/proc/self/stat", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(identity_pipe[1]);
  close(stat_pipe[1]);
  ProcessIdentity before{};
  ASSERT_EQ(read(identity_pipe[0], &before, sizeof(before)), static_cast<ssize_t>(sizeof(before)));
  std::string stat;
  char buffer[1024];
  for (ssize_t got; (got = read(stat_pipe[0], buffer, sizeof(buffer))) > 0;) stat.append(buffer, got);
  close(identity_pipe[0]);
  close(stat_pipe[0]);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(before.pid, static_cast<uint32_t>(child));
  // Field 22, counted after the command name's closing parenthesis.
  size_t at = stat.rfind(')');
  ASSERT_NE(at, std::string::npos) << stat;
  for (int field = 2; field < 22; ++field) at = stat.find(' ', at + 1);
  ASSERT_NE(at, std::string::npos) << stat;
  EXPECT_EQ(before.start_ticks, std::stoull(stat.substr(at + 1))) << stat;
  EXPECT_GE(before.start_ticks, CurrentProcessIdentity().start_ticks);
}

}  // namespace
}  // namespace heapdrift::agent
