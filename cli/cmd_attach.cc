// heapdrift attach: records a process that is already running, for a while,
// and leaves it as it was. A process started without the agent has it
// loaded first (agent_injector.h); then, as in one started with a dormant
// agent (`heapdrift run --dormant`, HEAPDRIFT_DORMANT=1), this command wakes
// the agent over its control socket; the agent streams the recording back on
// the same connection and sleeps again when this command says stop, exits,
// or dies.
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "agent_control.h"
#include "agent_injector.h"
#include "agent_locator.h"
#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "recording.h"
#include "stream_receiver.h"
#include "target_process.h"

namespace heapdrift::cli {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// How long the agent has to send its final snapshot once asked to stop.
constexpr std::chrono::seconds kStopGrace{10};

struct Settings {
  uint64_t pid = 0;
  std::chrono::milliseconds duration{std::chrono::seconds(30)};
  std::string output;
  std::string stream;
  uint64_t sample_bytes = 0;
  uint64_t interval_ms = 0;
};

std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }

// heapdrift-PID.rec in the working directory, or the first of .1, .2, ...
// that does not exist: a default name never replaces a file.
std::string DefaultOutput(pid_t pid) {
  std::string base = "heapdrift-" + std::to_string(pid) + ".rec";
  std::string path = base;
  std::error_code error;
  for (int suffix = 1; std::filesystem::exists(path, error); ++suffix) {
    path = base + "." + std::to_string(suffix);
  }
  return std::filesystem::absolute(path, error).string();
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "heapdrift: %s\n", message.c_str());
  return code;
}

// Asks the agent to stop once the duration is over or a signal came, then
// gives it kStopGrace to finish.
class StopClock {
 public:
  StopClock(int connection, std::chrono::milliseconds duration)
      : connection_(connection), end_(Now() + duration) {}
  // True when waiting longer is pointless.
  bool Expired() {
    if (!asked_ && (g_stop || Now() >= end_)) {
      shutdown(connection_, SHUT_WR);  // "stop": the agent writes its final snapshot
      asked_ = true;
      end_ = Now() + kStopGrace;
    }
    return asked_ && Now() >= end_;
  }

 private:
  int connection_;
  std::chrono::steady_clock::time_point end_;
  bool asked_ = false;
};

// Loads the agent into a process started without it (agent_injector.h) and
// waits until its control socket is up.
int LoadAgent(const TargetProcess& target, std::string* error) {
  std::optional<std::string> agent = LocateAgent(error);
  if (!agent) return kExitCannotRun;
  auto started = Now();
  InjectResult result = InjectAgent(target, *agent);
  switch (result.status) {
    case InjectStatus::kLoaded:
      break;
    case InjectStatus::kNotPermitted:
      *error = result.message;
      return kExitNotPermitted;
    case InjectStatus::kCannotAttach:
      *error = result.message;
      return kExitCannotAttach;
    case InjectStatus::kGone:
      *error = "pid " + std::to_string(target.pid) + " exited before it could be attached to";
      return kExitNoSuchProcess;
    case InjectStatus::kFailed:
      *error = "pid " + std::to_string(target.pid) + ": " + result.message;
      return kExitCannotAttach;
  }
  // The agent's control thread binds its socket right after the load.
  for (auto until = Now() + std::chrono::seconds(5); Now() < until;) {
    std::optional<TargetProcess> now = ReadTargetProcess(target.pid);
    if (!now) break;
    if (now->dormant()) {
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(Now() - started);
      std::fprintf(stderr, "heapdrift: loaded the agent into pid %d in %.1f ms (%s)\n", target.pid,
                   static_cast<double>(took.count()) / 1000, result.message.c_str());
      return kExitOk;
    }
    timespec pause{0, 5'000'000};
    nanosleep(&pause, nullptr);
  }
  return kExitOk;  // the caller looks again, and says what it found
}

int Attach(const Settings& settings) {
  std::string error;
  if (!settings.stream.empty() &&
      (settings.stream.rfind("unix:", 0) != 0 || settings.stream.size() == 5)) {
    return Fail(kExitUsage, "--stream takes unix:/path.sock (a `heapdrift record` socket)");
  }
  pid_t pid = static_cast<pid_t>(settings.pid);
  std::string pid_text = std::to_string(pid);
  std::optional<TargetProcess> target = ReadTargetProcess(pid);
  if (!target) return Fail(kExitNoSuchProcess, "no process with pid " + pid_text);
  if (target->state == 'Z' || target->state == 'X') {
    return Fail(kExitNoSuchProcess, "pid " + pid_text + " has exited (a zombie)");
  }
  if (pid == getpid()) return Fail(kExitCannotAttach, "heapdrift cannot attach to itself");
  // A process that ends while we reach for it is not an error of ours.
  auto exited = [pid] {
    std::optional<TargetProcess> now = ReadTargetProcess(pid);
    return !now || now->state == 'Z' || now->state == 'X';
  };
  if (!target->inspectable) {
    if (exited()) return Fail(kExitNoSuchProcess, "pid " + pid_text + " has exited");
    return Fail(kExitNotPermitted, "not permitted to inspect pid " + pid_text + " (" +
                                       target->name + "): run as its user, or as root");
  }
  if (target->no_memory) {
    if (exited()) return Fail(kExitNoSuchProcess, "pid " + pid_text + " has exited");
    return Fail(kExitCannotAttach, "pid " + pid_text + " (" + target->name +
                                       ") has no memory of its own (a kernel thread, or exiting)");
  }
  if (target->agent_loaded && !target->dormant()) {
    return Fail(kExitCannotAttach, "pid " + pid_text + " (" + target->name +
                                       ") runs the agent, not dormant: it records already");
  }
  if (!target->dormant()) {
    if (int code = LoadAgent(*target, &error); code != kExitOk) return Fail(code, error);
    target = ReadTargetProcess(pid);
    if (!target || !target->dormant()) {
      return Fail(exited() ? kExitNoSuchProcess : kExitCannotRun,
                  "pid " + pid_text + ": the agent was loaded but did not start listening");
    }
  }
  std::string output;
  if (settings.stream.empty()) {
    output = settings.output.empty()
                 ? DefaultOutput(pid)
                 : std::filesystem::absolute(settings.output).string();
    if (!CanWriteOutput(output, true, &error)) return Fail(kExitCannotRun, error);
  }
  WakeSettings wake;
  wake.sample_bytes = settings.sample_bytes;
  wake.interval_ms = settings.interval_ms;
  if (!settings.stream.empty()) {
    wake.receiver = "unix:" + std::filesystem::absolute(settings.stream.substr(5)).string();
  }
  int connection = -1;
  WakeStatus status = WakeAgent(ControlSocketPath(*target), wake, &connection, &error);
  if (status != WakeStatus::kRecording && exited()) {
    return Fail(kExitNoSuchProcess, "pid " + pid_text + " exited before it could be attached to");
  }
  switch (status) {
    case WakeStatus::kRecording:
      break;
    case WakeStatus::kNotPermitted:
      return Fail(kExitNotPermitted, "pid " + pid_text + ": " + error +
                                         " (run as the process's user, or as root)");
    case WakeStatus::kNoAgent:
      return Fail(kExitCannotAttach, "pid " + pid_text + ": " + error);
    case WakeStatus::kRefused:
      return Fail(kExitCannotRun, "pid " + pid_text + ": " + error);
  }
  struct sigaction stop {};
  stop.sa_handler = OnStopSignal;
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
  std::fprintf(stderr, "heapdrift: attached to pid %d (%s) for %g s; Ctrl-C ends it sooner\n",
               pid, target->name.c_str(), static_cast<double>(settings.duration.count()) / 1000);
  StopClock clock(connection, settings.duration);
  if (!settings.stream.empty()) {
    // The recording goes to the receiver; this connection only ends it.
    char byte;
    while (!clock.Expired()) {
      timespec pause{0, 50'000'000};
      nanosleep(&pause, nullptr);
      if (recv(connection, &byte, 1, MSG_DONTWAIT) == 0) break;  // the agent ended it
    }
    close(connection);
    std::fprintf(stderr, "heapdrift: detached; the recording went to %s\n",
                 settings.stream.c_str());
    return kExitOk;
  }
  StreamReceiver receiver;
  receiver.Adopt(connection, output);
  bool received = receiver.Run([&clock] { return clock.Expired(); }, nullptr, 1000, &error);
  if (!received) return Fail(kExitCannotRun, error);
  if (receiver.outputs().empty()) {
    if (exited()) return Fail(kExitNoSuchProcess, "pid " + pid_text + " exited before a snapshot");
    return Fail(kExitCannotRun, "pid " + pid_text +
                                    ": its agent sent no snapshot (nothing was recorded)");
  }
  int exit_code = kExitOk;
  PrintReport(receiver.outputs().front(), &exit_code);
  std::fprintf(stderr, "heapdrift: detached; recording: %s\n", receiver.outputs().front().c_str());
  return exit_code;
}

}  // namespace

void AddAttachCommand(CLI::App& app, int* exit_code) {
  auto settings = std::make_shared<Settings>();
  CLI::App* command =
      app.add_subcommand("attach", "Record a running process for a while, then leave it as it was");
  command->footer(
      "Examples:\n"
      "  heapdrift attach $(pidof server) --duration 60s   (as root: enters any glibc process)\n"
      "  heapdrift run --dormant -- ./server &        (at deploy: then attach needs no ptrace)\n"
      "  heapdrift attach 4242 --stream unix:/tmp/hd.sock   (to a running `heapdrift record`)\n"
      "Exit codes: 5 no such process, 6 not permitted, 7 the process cannot be attached to.");
  // PID_MAX_LIMIT (include/linux/threads.h): no pid is larger.
  AddCountOption(command, "pid", &settings->pid, "Process to record", 1, 4'194'304)->required();
  AddDurationOption(command, "--duration", &settings->duration,
                    "How long to record (e.g. 30s, 5m; default 30s)",
                    std::chrono::milliseconds(100),
                    std::chrono::hours(24 * 365));
  command->add_option("-o,--output", settings->output,
                      "Recording to write (default heapdrift-PID.rec, never replacing a file)");
  command->add_option("--stream", settings->stream,
                      "Send the recording to a receiver instead: unix:/path.sock")
      ->excludes("--output");
  AddSamplingOptions(command, &settings->sample_bytes,
                     "Mean bytes between samples (1 = every allocation; default: the agent's)",
                     &settings->interval_ms);
  command->callback([settings, exit_code] { *exit_code = Attach(*settings); });
}

}  // namespace heapdrift::cli
