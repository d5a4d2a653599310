// heapdrift run: runs a program under the agent and leaves a recording.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "agent_environment.h"
#include "agent_locator.h"
#include "child_process.h"
#include "command_support.h"
#include "commands.h"
#include "control_protocol.h"
#include "exit_codes.h"
#include "recording.h"
#include "recording_tree.h"

namespace heapdrift::cli {

void AddRunCommand(CLI::App& app, int* exit_code) {
  struct Settings {
    std::string output;
    uint64_t sample_bytes = 0;
    uint64_t interval_ms = 0;
    std::string follow = FollowModeName(agent::option::follow.default_value);
    bool follow_fork = false;
    bool dormant = false;
    std::string stream, service;
    std::vector<std::string> command;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* run = app.add_subcommand("run", "Run a program under the agent and record its heap");
  run->footer(
      "Examples:\n"
      "  heapdrift run -o server.rec -- ./server --port 8080\n"
      "  heapdrift run --sample-bytes 1 -o exact.rec -- ./unit_tests\n"
      "  heapdrift run --follow-fork -o nginx.rec -- nginx -g 'daemon off;'\n"
      "  heapdrift run -o server.rec -- timeout 600 ./server   (server.rec.<pid>: the server)\n"
      "  heapdrift run --dormant -- ./server   (records nothing until `heapdrift attach PID`)\n"
      "  heapdrift run --stream unix:/run/heapdrift/agents.sock --service shop -- ./server\n"
      "                                        (to `heapdrift serve`, reconnecting if it restarts)\n"
      "The exit code is the program's own (128+N if signal N ended it).");
  CLI::Option* output_option =
      run->add_option("-o,--output", settings->output, "Recording to write");
  run->add_flag("--dormant", settings->dormant,
                "Interpose but record nothing until `heapdrift attach PID` wakes the agent "
                "(each attach gets its own recording)")
      ->excludes(output_option);
  run->add_option("--stream", settings->stream,
                  "unix:/path.sock: stream to `heapdrift serve` (or `record`) instead of a file, "
                  "reconnecting when the receiver restarts")
      ->excludes(output_option);
  run->add_option("--service", settings->service,
                  "Service name for monitoring (HEAPDRIFT_SERVICE; default the program's name)");
  AddSamplingOptions(run, &settings->sample_bytes,
                     "Mean bytes between samples (1 = record every allocation; default 65536)",
                     &settings->interval_ms);
  AddFollowOption(run, &settings->follow);
  run->add_flag("--follow-fork", settings->follow_fork, "Same as --follow all");
  run->add_option("command", settings->command, "Program and its arguments (after --)")
      ->required();
  run->callback([settings, exit_code] {
    std::string error;
    std::optional<std::string> agent = LocateAgent(&error);
    if (!agent) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = 1;
      return;
    }
    if (settings->output.empty() && !settings->dormant && settings->stream.empty()) {
      std::fprintf(stderr, "heapdrift: run needs --output REC (or --stream, or --dormant)\n");
      *exit_code = kExitUsage;
      return;
    }
    if (!settings->stream.empty() &&
        (settings->stream.rfind("unix:", 0) != 0 || settings->stream.size() == 5)) {
      std::fprintf(stderr, "heapdrift: --stream takes unix:/path.sock, not '%s'\n",
                   settings->stream.c_str());
      *exit_code = kExitUsage;
      return;
    }
    bool streams = !settings->stream.empty();
    std::error_code ignored;
    std::string output = std::filesystem::absolute(settings->output, ignored).string();
    // The agent writes a file, from inside the program: it must be one.
    if (!settings->dormant && !streams && !CanWriteOutput(output, true, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = kExitCannotRun;
      return;
    }
    AgentSettings agent_settings;
    agent_settings.dormant = settings->dormant;
    if (!settings->dormant) agent_settings.output = streams ? settings->stream : output;
    agent_settings.reconnect = streams;
    agent_settings.service = settings->service;
    agent_settings.sample_bytes = settings->sample_bytes;
    agent_settings.interval_ms = settings->interval_ms;
    agent_settings.follow =
        settings->follow_fork ? FollowModeName(agent::FollowMode::kAll) : settings->follow;
    ChildResult result = RunChild(settings->command, AgentEnvironment(*agent, agent_settings));
    if (!result.started) {
      std::fprintf(stderr, "heapdrift: %s\n", result.error.c_str());
      *exit_code = ExitCodeForStartFailure(result);
      return;
    }
    *exit_code = result.exit_code;
    if (settings->dormant || streams) return;  // the receiver keeps the recording
    // The agent said why on stderr, if it could; the exit code must say it too.
    std::error_code size_error;
    proto::Header header;
    if (ReadRecordingHeader(output, &header)) {
      std::vector<TreeMember> later = FindLaterRecordings(output, header);
      if (!later.empty()) {
        std::fprintf(stderr,
                     "heapdrift: recorded %zu processes, to %s and, beside it, %s.<pid>; "
                     "heapdrift report %s covers them all\n",
                     later.size() + 1, output.c_str(), output.c_str(), output.c_str());
      }
    }
    if (std::filesystem::file_size(output, size_error) == 0 || size_error) {
      std::fprintf(stderr,
                   "heapdrift: no recording was written to %s (a statically linked or "
                   "set-user-ID program cannot be preloaded)\n",
                   output.c_str());
      if (*exit_code == 0) *exit_code = kExitCannotRun;
    }
  });
}

}  // namespace heapdrift::cli
