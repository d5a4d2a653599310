#include "target_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "agent/option_table.h"
#include "control_protocol.h"

namespace heapdrift {
namespace {

std::string ProcPath(pid_t pid, const char* entry) {
  return "/proc/" + std::to_string(pid) + "/" + entry;
}

// The value of `key:` in /proc/PID/status, "" when absent.
std::string StatusField(const std::string& status, std::string_view key) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      size_t start = line.find_first_not_of(" \t", key.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

// The path a socket the process holds is bound to, if one of them is named
// like a control socket: /proc/PID/fd names each socket's inode, and
// /proc/PID/net/unix (the process's network namespace) the inode's path.
// Found this way even if the process changed user since it bound it.
std::string BoundControlSocket(const TargetProcess& target) {
  std::set<unsigned long> inodes;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(ProcPath(target.pid, "fd"), error)) {
    std::error_code link_error;
    std::string link = std::filesystem::read_symlink(entry.path(), link_error).string();
    if (!link_error && link.rfind("socket:[", 0) == 0) {
      inodes.insert(std::strtoul(link.c_str() + 8, nullptr, 10));
    }
  }
  char name[32] = "/";
  std::snprintf(name + 1, sizeof(name) - 1, control::kSocketNamePattern,
                static_cast<int>(target.own_pid));
  std::ifstream table(ProcPath(target.pid, "net/unix"));
  std::string line;
  std::getline(table, line);  // the column names
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, references, protocol, flags, type, state, path;
    unsigned long inode = 0;
    if (!(fields >> slot >> references >> protocol >> flags >> type >> state >> inode >> path)) {
      continue;
    }
    if (inodes.count(inode) != 0 && path.size() > std::strlen(name) &&
        path.compare(path.size() - std::strlen(name), std::strlen(name), name) == 0) {
      return ProcPath(target.pid, "root") + path;
    }
  }
  return "";
}

}  // namespace

std::optional<TargetProcess> ReadTargetProcess(pid_t pid) {
  struct stat directory {};
  if (pid <= 0 || stat(ProcPath(pid, "").c_str(), &directory) != 0) return std::nullopt;
  TargetProcess target;
  target.pid = pid;
  target.own_pid = pid;
  target.effective_uid = directory.st_uid;
  std::ifstream status_file(ProcPath(pid, "status"));
  std::stringstream status_text;
  status_text << status_file.rdbuf();
  std::string status = status_text.str();
  if (status.empty()) return std::nullopt;  // gone meanwhile
  target.name = StatusField(status, "Name");
  std::string state = StatusField(status, "State");
  if (!state.empty()) target.state = state[0];
  target.tracer = static_cast<pid_t>(std::atol(StatusField(status, "TracerPid").c_str()));
  std::istringstream uids(StatusField(status, "Uid"));
  unsigned long real = 0, effective = 0;
  if (uids >> real >> effective) target.effective_uid = static_cast<uid_t>(effective);
  std::istringstream nspids(StatusField(status, "NSpid"));
  for (long nspid = 0; nspids >> nspid;) target.own_pid = static_cast<pid_t>(nspid);

  std::ifstream maps(ProcPath(pid, "maps"));
  target.inspectable = maps.is_open();
  target.no_memory = maps.is_open() && maps.peek() == std::ifstream::traits_type::eof();
  for (std::string line; std::getline(maps, line);) {
    if (line.size() >= 16 && line.compare(line.size() - 16, 16, "/libheapdrift.so") == 0) {
      target.agent_loaded = true;
      break;
    }
  }
  std::ifstream environ_file(ProcPath(pid, "environ"));
  std::string dormant_prefix = std::string(agent::option::dormant.variable) + "=";
  std::string directory_prefix = std::string(agent::option::control_dir.variable) + "=";
  for (std::string entry; std::getline(environ_file, entry, '\0');) {
    if (entry.compare(0, dormant_prefix.size(), dormant_prefix) == 0) {
      std::string value = entry.substr(dormant_prefix.size());
      target.dormant_environment = value == "1" || value == "true" || value == "yes";
    } else if (entry.compare(0, directory_prefix.size(), directory_prefix) == 0) {
      target.control_dir = entry.substr(directory_prefix.size());
    }
  }
  if (target.agent_loaded) target.control_socket = BoundControlSocket(target);
  return target;
}

char ThreadState(pid_t pid, pid_t tid) {
  // read(2), not a stream: reading a thread that exits meanwhile fails with
  // ESRCH, which a stream iterator turns into an exception.
  std::string path = ProcPath(pid, "task/") + std::to_string(tid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 'X';
  char text[512];
  ssize_t got = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (got <= 0) return 'X';
  std::string_view view(text, static_cast<size_t>(got));
  size_t close_paren = view.rfind(')');
  return close_paren != std::string_view::npos && close_paren + 2 < view.size()
             ? view[close_paren + 2]
             : 'X';
}

std::string ControlSocketPath(const TargetProcess& target) {
  if (!target.control_socket.empty()) return target.control_socket;
  std::string directory = target.control_dir;
  char buffer[256];
  if (directory.empty()) {
    std::snprintf(buffer, sizeof(buffer), control::kDefaultControlDirPattern,
                  static_cast<unsigned>(target.effective_uid));
    directory = buffer;
  }
  std::snprintf(buffer, sizeof(buffer), control::kSocketNamePattern,
                static_cast<int>(target.own_pid));
  return ProcPath(target.pid, "root") + directory + "/" + buffer;
}

}  // namespace heapdrift
