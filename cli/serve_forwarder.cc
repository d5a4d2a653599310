// `heapdrift serve ARGS`: replaced by `heapdrift-serve ARGS` (serve_main.cc),
// found beside this executable; the same process, so its pid, signals and
// exit status are the daemon's.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "exit_codes.h"

namespace heapdrift::cli {

void AddServeForwarder(CLI::App& app, int* exit_code) {
  CLI::App* command = app.add_subcommand("serve", kServeSummary);
  // Everything after `serve`, --help included, is the daemon's to read.
  command->prefix_command();
  command->set_help_flag();
  command->allow_extras();
  command->callback([command, exit_code] {
    std::error_code ignored;
    std::filesystem::path daemon =
        std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path() / "heapdrift-serve";
    std::vector<std::string> words = command->remaining();
    std::vector<char*> arguments;
    static char name[] = "heapdrift-serve";
    arguments.push_back(name);
    for (std::string& word : words) arguments.push_back(word.data());
    arguments.push_back(nullptr);
    execv(daemon.c_str(), arguments.data());
    std::fprintf(stderr, "heapdrift: cannot start the daemon %s: %s\n", daemon.c_str(),
                 std::strerror(errno));
    *exit_code = kExitCannotRun;
  });
}

}  // namespace heapdrift::cli
