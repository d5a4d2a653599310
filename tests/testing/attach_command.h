// Running `heapdrift attach` in a test, and what its refusals look like.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "dormant_process.h"
#include "subprocess.h"

namespace heapdrift::testing {

// Its documented exit codes (README, cli/exit_codes.h).
inline constexpr int kNoSuchProcess = 5;
inline constexpr int kNotPermitted = 6;
inline constexpr int kCannotAttach = 7;

// `heapdrift attach ARGUMENTS...`
ProcessResult Attach(std::vector<std::string> arguments, int timeout_sec = 60);

// `heapdrift attach PID` recording into `output` for up to 5 s, started in
// the background with its output discarded: for tests that kill it.
pid_t StartQuietAttach(const std::string& pid, const std::string& output);

// The target never noticed: it ended as the same program run without any
// attach did (exit code, output) and printed nothing on stderr.
void ExpectUnnoticed(const ProcessResult& finished, const ProcessResult& plain);

// A bundled example program (examples/).
std::string Example(const char* name);

// The one line a refusal prints, with `code` and containing `words`.
void ExpectOneLine(const ProcessResult& result, int code, const std::string& words);

// The bundled session-leak server, attached to into `recording` (what
// `attach` printed: `attached`): waits for the server to end, then expects
// the leaking call site ranked first within 25 % of the rate the server
// itself counts, and the page cache (RenderPage) that fills and turns over
// not called a leak.
void ExpectTheSessionLeakRankedFirst(DormantProcess& server, const std::string& recording,
                                     const ProcessResult& attached);

// Fifty short recordings of `pid` in a row (200 ms each, the last in exact
// mode), each expected to succeed and to end in a final snapshot; the agent
// memory each one reported, and what each `attach` printed on stderr. Stops
// at the first that fails. They take ~25 s on an idle machine, up to ~35 s
// on a loaded one: the process must live longer.
struct RepeatedAttaches {
  std::vector<double> agent_memory;
  std::vector<std::string> messages;
};
RepeatedAttaches AttachFiftyTimes(const std::string& pid, const std::string& scratch_recording);

}  // namespace heapdrift::testing
