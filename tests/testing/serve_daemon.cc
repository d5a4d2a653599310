#include "serve_daemon.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <httplib.h>

#include "paths.h"

namespace heapdrift::testing {

HttpAnswer HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  HttpAnswer answer;
  if (auto result = client.Get(path)) {
    answer.status = result->status;
    answer.body = result->body;
    answer.content_type = result->get_header_value("Content-Type");
  }
  return answer;
}

ServeDaemon::ServeDaemon(const TempDir& dir, const std::vector<std::string>& extra)
    : socket_(dir.File("agents.sock")),
      directory_(dir.File("recordings")),
      log_(dir.File("serve.log")),
      extra_(extra) {}

bool ServeDaemon::Start() {
  std::vector<std::string> argv = {kCliPath, "serve", "--listen", "unix:" + socket_, "--dir",
                                   directory_, "--http", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  std::filesystem::remove(log_);
  process_ = std::make_unique<SpawnedProcess>(argv, Environment{}, log_);
  std::regex listening(R"(http://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 400 && process_->Running(); ++i) {
    std::smatch match;
    std::string log = process_->Log();
    if (std::regex_search(log, match, listening)) {
      port_ = std::stoi(match[1]);
      return Get("/healthz").status == 200;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

void ServeDaemon::Kill(int signal) {
  process_->Signal(signal);
  process_->Wait(30);
}

int ServeDaemon::Stop() {
  process_->Signal(SIGTERM);
  return process_->Wait(30);
}

std::vector<std::string> ServeDaemon::ProcessDirectories() const {
  std::vector<std::string> directories;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    if (entry.is_directory()) directories.push_back(entry.path().string());
  }
  std::sort(directories.begin(), directories.end());
  return directories;
}

}  // namespace heapdrift::testing
