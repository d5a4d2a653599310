// heapdrift export: the heap at one moment, for other tools (pprof, flame graphs).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "folded_export.h"
#include "gzip_file.h"
#include "pprof_export.h"
#include "recording.h"

namespace heapdrift::cli {

void AddExportCommand(CLI::App& app, int* exit_code) {
  struct Settings {
    std::string path, output, format, value = "inuse_space", debug_paths;
    double at = 1e300;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* command = app.add_subcommand("export", "Write the heap at one moment for other tools");
  command->footer(
      "Examples:\n"
      "  heapdrift export server.rec --format pprof -o heap.pb.gz && go tool pprof -top heap.pb.gz\n"
      "  heapdrift export server.rec --format folded -o heap.folded --at 30\n"
      "pprof: gzipped profile.proto with alloc_objects, alloc_space, inuse_objects, inuse_space.\n"
      "folded: one 'root;...;leaf value' line per stack (flamegraph.pl, speedscope).");
  command->add_option("recording", settings->path, "Recording file")->required();
  command->add_option("--format", settings->format, "pprof or folded")
      ->required()
      ->check(CLI::IsMember({"pprof", "folded"}));
  command->add_option("-o,--output", settings->output, "File to write")->required();
  AddSecondsOption(command, "--at", &settings->at,
                   "Seconds since the start: use the last snapshot at or before it", 0, kMaxSeconds);
  command->add_option("--value", settings->value, "folded: inuse_space (default), inuse_objects, "
                                                  "alloc_space or alloc_objects")
      ->check(CLI::IsMember({"inuse_space", "inuse_objects", "alloc_space", "alloc_objects"}));
  AddSymbolOptions(command, nullptr, &settings->debug_paths);
  command->callback([settings, exit_code] {
    Recording recording;
    if (!LoadRecordingForCommand(settings->path, &recording, exit_code)) return;
    CallSiteResolver resolver(recording, {}, settings->debug_paths);
    std::string error;
    bool written = false;
    if (settings->format == "pprof") {
      pprof::Profile profile = BuildPprofProfile(resolver, settings->at);
      written = WriteGzipFile(settings->output, profile.SerializeAsString(), &error);
    } else {
      static const std::map<std::string, FoldedValue> kValues = {
          {"inuse_space", FoldedValue::kInuseSpace}, {"inuse_objects", FoldedValue::kInuseObjects},
          {"alloc_space", FoldedValue::kAllocSpace}, {"alloc_objects", FoldedValue::kAllocObjects}};
      std::string text = BuildFoldedStacks(resolver, kValues.at(settings->value), settings->at);
      std::ofstream file(settings->output, std::ios::binary);
      written = file && (file << text) && file.flush();
      if (!written) error = "cannot write " + settings->output + ": " + std::strerror(errno);
    }
    PrintWarnings(resolver.warnings());
    if (!written) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = 1;
      return;
    }
    *exit_code = kExitOk;
  });
}

}  // namespace heapdrift::cli
