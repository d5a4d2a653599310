// heapdrift-serve: the daemon behind `heapdrift serve`, which runs it with
// the same arguments (serve_forwarder.cc). An executable of its own so that
// the HTTP server and what it links (cpp-httplib brings OpenSSL, which sets
// itself up when loaded) are loaded by the daemon alone, not by every short
// `heapdrift run` or `check`.
#include <string>
#include <vector>

#include "command_line.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"heapdrift: finds the call sites whose live memory keeps growing"};
  app.name("heapdrift");
  app.require_subcommand(1);
  int exit_code = 0;
  heapdrift::cli::AddServeCommand(app, &exit_code);
  // Parsed as `heapdrift serve ARGS`: the same help, checks and messages.
  static char serve[] = "serve";
  std::vector<char*> arguments{argv[0], serve};
  for (int i = 1; i < argc; ++i) arguments.push_back(argv[i]);
  return heapdrift::cli::ParseAndRun(app, static_cast<int>(arguments.size()), arguments.data(),
                                     exit_code);
}
