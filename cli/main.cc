#include <cstdio>

#include "commands.h"
#include "exit_codes.h"
#include "recording.h"

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
  heapdrift::cli::AddServeCommand(app, &exit_code);
  // CLI11 would say "A subcommand is required" of a misspelt one.
  auto known = app.get_subcommands(
      [&](const CLI::App* command) { return argc > 1 && command->check_name(argv[1]); });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(stderr, "heapdrift: unknown subcommand '%s' (see heapdrift --help)\n", argv[1]);
    return heapdrift::cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ExtrasError& error) {
    // CLI11 lists every left-over word ("-- --frobnicate"); name the culprit.
    for (const std::string& word : app.remaining(true)) {
      if (word.size() > 1 && word[0] == '-' && word != "--") {
        std::fprintf(stderr, "heapdrift: unknown option %s (see heapdrift --help)\n", word.c_str());
        return heapdrift::cli::kExitUsage;
      }
    }
    std::fprintf(stderr, "heapdrift: %s (see heapdrift --help)\n", error.what());
    return heapdrift::cli::kExitUsage;
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "heapdrift: %s (see heapdrift --help)\n", error.what());
    return heapdrift::cli::kExitUsage;
  }
  return exit_code;
}
