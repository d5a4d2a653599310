// Debian's memcached (multithreaded, its own slab allocator on top of
// malloc) under load from memcslap in a second process: with the agent it
// serves the same requests as without, and stops cleanly on SIGTERM with a
// complete recording.
#include <gtest/gtest.h>

#include <sstream>

#include "paths.h"
#include "recording_queries.h"
#include "system_support.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

// Sets 4 x `sets_per_connection` keys (of 200,000: 50,000 distinct, ~125
// MiB of items: with room for all of them, memcached keeps allocating slab
// pages for the first ~3.5 s; at 64 MiB it stopped after ~1.5 s, and an
// attach that began later sampled nothing; 200,000 take ~5 s), then gets;
// prints memcslap's summaries and the server's total_items. `server_prefix`
// wraps memcached (empty: plain); `during_set` runs while the keys are being
// set ($server is memcached's pid).
ProcessResult RunMemcachedLoad(const std::string& server_prefix,
                               const std::string& during_set = "",
                               int sets_per_connection = 50000) {
  std::string port = FreeLoopbackPort();
  std::string script =
      "set -e\n"
      "P=" + port + "\n"
      "sets=$(mktemp)\n"
      "trap 'rm -f $sets' EXIT\n" +
      server_prefix + " memcached -u root -p $P -l 127.0.0.1 -U 0 -t 2 -m 1024 &\n"
      "server=$!\n"
      "for i in $(seq 100); do memcstat --servers=127.0.0.1:$P >/dev/null 2>&1 && break; "
      "sleep 0.1; done\n"
      "memcslap --servers=127.0.0.1:$P --concurrency=4 --execute-number=" +
      std::to_string(sets_per_connection) + " --test=set "
      "  > $sets &\n"
      "load=$!\n" +
      during_set + "\n"
      "wait $load\n"
      "grep -o 'Time to set *[0-9]* keys' $sets\n"
      "memcslap --servers=127.0.0.1:$P --concurrency=4 --execute-number=20000 --test=get | "
      "  grep -c 'Time to get'\n"
      "memcstat --servers=127.0.0.1:$P | grep -E 'total_items'\n"
      "kill -TERM $server\n"
      "wait $server\n";
  return RunProcess({"sh", "-c", script}, {}, 300);
}

TEST(Memcached, ServesTheSameLoadAndStopsCleanlyUnderTheAgent) {
  ASSERT_TRUE(Installed("memcached") && Installed("memcslap"))
      << "install memcached and libmemcached-tools";
  TempDir dir;
  ProcessResult plain = RunMemcachedLoad("");
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  ASSERT_NE(plain.out.find("Time to set          200000 keys"), std::string::npos) << plain.out;
  std::string recording = dir.File("memcached.rec");
  ProcessResult traced =
      RunMemcachedLoad(std::string(kCliPath) + " run --interval-ms 200 -o " + recording + " --");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, plain.out);  // same keys set, gets done, items stored
  EXPECT_TRUE(LinesStartingWith(traced.err, "heapdrift:").empty()) << traced.err;
  ExpectSoundRecording(recording);
}

// Attached to for 10 s while 600,000 keys are being set (~15 s), started
// with the agent asleep (`prefix`) or without it (entered): the same keys
// set, gets done and items stored as without.
void AttachWhileKeysAreSet(const std::string& prefix) {
  ASSERT_TRUE(Installed("memcached") && Installed("memcslap"))
      << "install memcached and libmemcached-tools";
  TempDir dir;
  constexpr int kSetsPerConnection = 150000;
  ProcessResult plain = RunMemcachedLoad("", "", kSetsPerConnection);
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  ASSERT_NE(plain.out.find("Time to set          600000 keys"), std::string::npos) << plain.out;
  std::string recording = dir.File("attached.rec");
  ProcessResult attached = RunMemcachedLoad(
      prefix,
      "sleep 0.5; " + std::string(kCliPath) + " attach $server --duration 10s --interval-ms 200 -o " +
          recording + " > /dev/null",
      kSetsPerConnection);
  EXPECT_EQ(attached.exit_code, 0) << attached.err;
  EXPECT_EQ(attached.out, plain.out);  // same keys set, gets done, items stored
  EXPECT_NE(attached.err.find("detached; recording: " + recording), std::string::npos)
      << attached.err;
  ExpectSoundRecording(recording);
  EXPECT_TRUE(LoadRecording(recording).header.attached());
}

TEST(Memcached, AttachedWhileKeysAreSetServesTheSameLoad) {
  AttachWhileKeysAreSet("env LD_PRELOAD=" + std::string(kAgentPath) + " HEAPDRIFT_DORMANT=1");
}

TEST(Memcached, EnteredWhileKeysAreSetServesTheSameLoad) { AttachWhileKeysAreSet(""); }

}  // namespace
}  // namespace heapdrift::testing
