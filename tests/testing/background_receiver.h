// `heapdrift record --listen unix:SOCKET -o OUTPUT [EXTRA...]` running in the
// background for a test (ended after `timeout_sec`); finished (joined) on
// Wait() or destruction.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "paths.h"
#include "subprocess.h"

namespace heapdrift::testing {

class BackgroundReceiver {
 public:
  BackgroundReceiver(const std::string& socket, const std::string& output,
                     const std::vector<std::string>& extra = {}, int timeout_sec = 60)
      : socket_(socket) {
    std::vector<std::string> argv = {kCliPath, "record", "--listen", "unix:" + socket, "-o",
                                     output};
    argv.insert(argv.end(), extra.begin(), extra.end());
    thread_ = std::thread([this, argv, timeout_sec] { result_ = RunProcess(argv, {}, timeout_sec); });
  }
  ~BackgroundReceiver() {
    if (thread_.joinable()) thread_.join();
  }
  BackgroundReceiver(const BackgroundReceiver&) = delete;
  BackgroundReceiver& operator=(const BackgroundReceiver&) = delete;

  // Until the socket exists: the receiver listens.
  bool WaitUntilListening() const {
    for (int i = 0; i < 200; ++i) {
      struct stat info {};
      if (lstat(socket_.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }
  const ProcessResult& Wait() {
    thread_.join();
    return result_;
  }

 private:
  std::string socket_;
  std::thread thread_;
  ProcessResult result_;
};

}  // namespace heapdrift::testing
