#include "command_line.h"

#include <cstdio>
#include <string>

#include "exit_codes.h"

namespace heapdrift::cli {

int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code) {
  // CLI11 would say "A subcommand is required" of a misspelt one.
  auto known = app.get_subcommands(
      [&](const CLI::App* command) { return argc > 1 && command->check_name(argv[1]); });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(stderr, "heapdrift: unknown subcommand '%s' (see heapdrift --help)\n", argv[1]);
    return kExitUsage;
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
        return kExitUsage;
      }
    }
    std::fprintf(stderr, "heapdrift: %s (see heapdrift --help)\n", error.what());
    return kExitUsage;
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "heapdrift: %s (see heapdrift --help)\n", error.what());
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace heapdrift::cli
