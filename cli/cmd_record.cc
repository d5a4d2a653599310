// heapdrift record: receives the snapshots an agent streams to a Unix socket.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "format.h"
#include "growth_report.h"
#include "stream_receiver.h"

namespace heapdrift::cli {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// --live: the top growing call sites of the first agent's recording so far.
// One resolver per recording for the whole session, so each tick analyses
// without symbolizing again (the resolver follows modules loaded since).
class LivePrinter {
 public:
  explicit LivePrinter(size_t top) : top_(top) {}
  void Print(const Recording& recording);

 private:
  size_t top_;
  const Recording* recording_ = nullptr;
  uint64_t started_ = 0;  // with the address: the same recording, not a new one in its place
  std::unique_ptr<CallSiteResolver> resolver_;
};

void LivePrinter::Print(const Recording& recording) {
  if (recording.snapshots.empty()) return;
  if (resolver_ == nullptr || recording_ != &recording ||
      started_ != recording.header.start_clock_ns()) {
    recording_ = &recording;
    started_ = recording.header.start_clock_ns();
    resolver_ = std::make_unique<CallSiteResolver>(recording);
  }
  size_t top = top_;
  GrowthReport report = BuildGrowthReport(*resolver_);
  fmt::print("[{:6.1f} s] ", report.seconds);
  if (report.growing.empty()) {
    fmt::print("no call site grows steadily yet ({} snapshots)\n", report.snapshots);
  } else {
    fmt::print("growing:\n");
    for (size_t i = 0; i < report.growing.size() && i < top; ++i) {
      const SiteReport& site = report.growing[i];
      fmt::print("  {}. {:>10}/s  {:>10} live  {:5.1f}%  {}\n", i + 1,
                 HumanBytes(site.growth_bytes_per_sec), HumanBytes(site.live_bytes),
                 100 * site.classification.confidence, FrameTitle(site.site));
    }
  }
  std::fflush(stdout);
}

}  // namespace

void AddRecordCommand(CLI::App& app, int* exit_code) {
  struct Settings {
    std::string listen, output;
    bool live = false;
    double live_interval = 5;
    size_t top = 5;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* command =
      app.add_subcommand("record", "Receive the recording an agent streams to a Unix socket");
  command->footer(
      "Examples:\n"
      "  heapdrift record --listen unix:/tmp/hd.sock -o server.rec --live &\n"
      "  HEAPDRIFT_OUTPUT=unix:/tmp/hd.sock LD_PRELOAD=/path/libheapdrift.so ./server\n"
      "The socket is created owner-only. It stops when the agent's process ends or on\n"
      "Ctrl-C / SIGTERM; the recording holds every complete snapshot received.");
  command->add_option("--listen", settings->listen, "unix:/path.sock")->required();
  command->add_option("-o,--output", settings->output, "Recording to write")->required();
  command->add_flag("--live", settings->live, "Print the top growing call sites as they form");
  AddSecondsOption(command, "--live-interval", &settings->live_interval,
                   "Seconds between --live updates", 0.5, 3600);
  AddCountOption(command, "--top", &settings->top, "How many sites --live shows", 1, kMaxTop);
  command->callback([settings, exit_code] {
    if (settings->listen.rfind("unix:", 0) != 0 || settings->listen.size() == 5) {
      std::fprintf(stderr, "heapdrift: --listen takes unix:/path.sock, not '%s'\n",
                   settings->listen.c_str());
      *exit_code = kExitUsage;
      return;
    }
    StreamReceiver receiver;
    std::string error;
    if (!CanWriteOutput(settings->output, false, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = kExitCannotRun;
      return;
    }
    if (!receiver.Listen(settings->listen.substr(5), settings->output, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = 1;
      return;
    }
    struct sigaction stop {};
    stop.sa_handler = OnStopSignal;  // no SA_RESTART: poll returns at once
    sigemptyset(&stop.sa_mask);
    sigaction(SIGINT, &stop, nullptr);
    sigaction(SIGTERM, &stop, nullptr);
    std::fprintf(stderr, "heapdrift: listening on %s\n", settings->listen.c_str());
    auto live = std::make_shared<LivePrinter>(settings->top);
    bool ok = receiver.Run([] { return g_stop != 0; },
                           settings->live ? std::function<void(const Recording&)>(
                                                [live](const Recording& r) { live->Print(r); })
                                          : nullptr,
                           static_cast<int>(settings->live_interval * 1000), &error);
    if (!ok) std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
    if (receiver.dropped_peers() > 0) {
      std::fprintf(stderr, "heapdrift: dropped %zu connection(s) that sent no recording\n",
                   receiver.dropped_peers());
    }
    for (const std::string& path : receiver.outputs()) {
      std::fprintf(stderr, "heapdrift: wrote %s\n", path.c_str());
    }
    const std::vector<std::string>& outputs = receiver.outputs();
    if (outputs.size() > 1 &&
        std::find(outputs.begin(), outputs.end(), settings->output) != outputs.end()) {
      std::fprintf(stderr, "heapdrift: heapdrift report %s covers every process recorded\n",
                   settings->output.c_str());
    }
    if (ok && outputs.empty()) {
      std::fprintf(stderr, "heapdrift: no agent sent a snapshot; nothing was written\n");
    }
    *exit_code = ok && !outputs.empty() ? kExitOk : 1;
  });
}

}  // namespace heapdrift::cli
