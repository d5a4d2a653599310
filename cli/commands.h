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
void AddServeCommand(CLI::App& app, int* exit_code);

// What `heapdrift report PATH` prints, for commands that end with a report.
void PrintReport(const std::string& path, int* exit_code);

}  // namespace heapdrift::cli
