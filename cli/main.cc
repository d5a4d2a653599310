#include "command_line.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"heapdrift: finds the call sites whose live memory keeps growing"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "heapdrift " HEAPDRIFT_VERSION);
  int exit_code = 0;
  heapdrift::cli::AddRunCommand(app, &exit_code);
  heapdrift::cli::AddRecordCommand(app, &exit_code);
  heapdrift::cli::AddInspectCommand(app, &exit_code);
  heapdrift::cli::AddReportCommand(app, &exit_code);
  heapdrift::cli::AddDiffCommand(app, &exit_code);
  heapdrift::cli::AddExportCommand(app, &exit_code);
  heapdrift::cli::AddCheckCommand(app, &exit_code);
  heapdrift::cli::AddAttachCommand(app, &exit_code);
  heapdrift::cli::AddServeForwarder(app, &exit_code);
  return heapdrift::cli::ParseAndRun(app, argc, argv, exit_code);
}
