// The `heapdrift` subcommands. Each Add*Command registers one subcommand on
// the CLI11 app; its callback stores the process exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

namespace heapdrift::cli {

void AddRunCommand(CLI::App& app, int* exit_code);
void AddInspectCommand(CLI::App& app, int* exit_code);
void AddReportCommand(CLI::App& app, int* exit_code);
void AddExportCommand(CLI::App& app, int* exit_code);
void AddDiffCommand(CLI::App& app, int* exit_code);
void AddRecordCommand(CLI::App& app, int* exit_code);
void AddCheckCommand(CLI::App& app, int* exit_code);
void AddAttachCommand(CLI::App& app, int* exit_code);
// `serve`: the daemon's options and loop (heapdrift-serve), and in
// `heapdrift` the subcommand that hands the command line over to it.
inline constexpr const char* kServeSummary =
    "Monitor every process whose agent streams to a socket: recordings kept on disk, "
    "Prometheus metrics, pprof and reports over HTTP";
void AddServeCommand(CLI::App& app, int* exit_code);
void AddServeForwarder(CLI::App& app, int* exit_code);

// What `heapdrift report PATH` prints, for commands that end with a report.
void PrintReport(const std::string& path, int* exit_code);

}  // namespace heapdrift::cli
