// Parsing a command line into one of the app's subcommands and running it,
// with every parse error as one line and the usage exit code. Shared by
// `heapdrift` and `heapdrift-serve`.
#pragma once

#include <CLI/CLI.hpp>

namespace heapdrift::cli {

// Parses argv with `app` (whose subcommands' callbacks run during the
// parse) and returns the exit code: `exit_code` as the callback left it, or
// the usage code for a bad command line.
int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code);

}  // namespace heapdrift::cli
