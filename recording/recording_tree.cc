#include "recording_tree.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <tuple>

#include "recording.h"

namespace heapdrift {
namespace {

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "<digits>" or "<digits>.<digits>": a pid, and the suffix of a name taken.
bool IsPidSuffix(std::string_view text) {
  size_t dot = text.find('.');
  return dot == std::string_view::npos
             ? AllDigits(text)
             : AllDigits(text.substr(0, dot)) && AllDigits(text.substr(dot + 1));
}

// Whether `name` may be another process's recording of the tree whose first
// recording is `first_name` (of pid `pid`): FIRST.<pid>[.N], or FIRST with
// its pid (from "%p") replaced by another pid, then [.N].
bool IsCandidateName(std::string_view name, std::string_view first_name, std::string_view pid) {
  if (name.size() > first_name.size() + 1 && name.substr(0, first_name.size()) == first_name &&
      name[first_name.size()] == '.' && IsPidSuffix(name.substr(first_name.size() + 1))) {
    return true;
  }
  for (size_t at = first_name.find(pid); at != std::string_view::npos;
       at = first_name.find(pid, at + 1)) {
    std::string_view before = first_name.substr(0, at), after = first_name.substr(at + pid.size());
    if (name.size() <= before.size() + after.size() || name.substr(0, before.size()) != before) {
      continue;
    }
    std::string_view rest = name.substr(before.size());
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    if (digits == 0 || rest.substr(digits, after.size()) != after) continue;
    std::string_view tail = rest.substr(digits + after.size());
    if (tail.empty() || (tail[0] == '.' && AllDigits(tail.substr(1)))) return true;
  }
  return false;
}

}  // namespace

bool ReadRecordingHeader(const std::filesystem::path& path, proto::Header* header) {
  std::ifstream file(path, std::ios::binary);
  std::string data(64 * 1024, '\0');
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(file.gcount()));
  uint64_t length = 0;
  int prefix = ParseRecordPrefix(data.data(), data.size(), &length);
  return prefix > 0 && length <= data.size() - static_cast<size_t>(prefix) &&
         header->ParseFromArray(data.data() + prefix, static_cast<int>(length)) &&
         header->magic() == format::kRecordingMagic;
}

namespace {

// Started no earlier than the first process: a file left by an earlier tree
// whose first process had the same pid is not this tree's.
bool StartedAfter(const proto::Header& later, const proto::Header& first) {
  if (later.process_start_ticks() != 0 && first.process_start_ticks() != 0) {
    return later.process_start_ticks() >= first.process_start_ticks();
  }
  return later.start_time_unix_ns() >= first.start_time_unix_ns();
}

}  // namespace

std::vector<TreeMember> FindLaterRecordings(const std::string& first_path,
                                            const proto::Header& first) {
  std::vector<TreeMember> members;
  if (first.root_pid() == 0 || first.root_pid() != first.pid()) return members;
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path path(first_path);
  std::string first_name = path.filename().string();
  std::string pid = std::to_string(first.pid());
  fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  for (fs::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name == first_name || !IsCandidateName(name, first_name, pid)) continue;
    TreeMember member;
    member.path = path.has_parent_path() ? (directory / name).string() : name;
    if (!it->is_regular_file(error) || !ReadRecordingHeader(it->path(), &member.header)) continue;
    if (member.header.root_pid() != first.pid() || !StartedAfter(member.header, first)) continue;
    members.push_back(std::move(member));
  }
  std::sort(members.begin(), members.end(), [](const TreeMember& a, const TreeMember& b) {
    return std::make_tuple(a.header.process_start_ticks(), a.header.start_time_unix_ns(), a.path) <
           std::make_tuple(b.header.process_start_ticks(), b.header.start_time_unix_ns(), b.path);
  });
  return members;
}

std::string DescribeProcess(const proto::Header& header) {
  std::string command;
  for (const std::string& argument : header.command_line()) {
    command += (command.empty() ? "" : " ") + argument;
  }
  if (command.size() > 60) command = command.substr(0, 57) + "...";
  return "pid " + std::to_string(header.pid()) + " (" + command + ")";
}

}  // namespace heapdrift
