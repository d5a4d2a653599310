// heapdrift serve: the monitoring daemon (serve/daemon.h).
#include <arpa/inet.h>
#include <grp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include "command_support.h"
#include "commands.h"
#include "daemon.h"
#include "exit_codes.h"

namespace heapdrift::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop.store(true); }

bool IsLoopback(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1" || host == "localhost";
}

// NAME=REGEX; the name becomes a label value, the regex is searched in the
// function names and source files of each stack.
bool ParseGroup(const std::string& text, serve::GroupPattern* group, std::string* error) {
  size_t equals = text.find('=');
  if (equals == 0 || equals == std::string::npos || equals + 1 == text.size()) {
    *error = "--group takes NAME=REGEX, not '" + text + "'";
    return false;
  }
  group->name = text.substr(0, equals);
  group->text = text.substr(equals + 1);
  try {
    group->pattern = std::regex(group->text, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& bad) {
    *error = "--group " + group->name + ": '" + group->text + "' is not a regular expression (" +
             bad.what() + ")";
    return false;
  }
  return true;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  struct Settings {
    std::string listen, http = "127.0.0.1:9464", dir, socket_group;
    std::chrono::milliseconds retain = std::chrono::hours(24 * 7);
    std::chrono::milliseconds window = std::chrono::minutes(10);
    std::chrono::milliseconds hold = std::chrono::hours(1);
    std::chrono::milliseconds refresh = std::chrono::seconds(5);
    uint64_t max_disk = uint64_t{1} << 30;
    uint64_t top = 20, max_series = 2000;
    std::vector<std::string> groups, wrappers;
    bool allow_remote = false;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* command = app.add_subcommand("serve", kServeSummary);
  command->footer(
      "Example:\n"
      "  heapdrift serve --listen unix:/run/heapdrift/agents.sock --dir /var/lib/heapdrift \\\n"
      "                  --group session='SessionStore::|Session::Session'\n"
      "  HEAPDRIFT_OUTPUT=unix:/run/heapdrift/agents.sock LD_PRELOAD=.../libheapdrift.so ./server\n"
      "HTTP: /metrics, /debug/pprof/heap?pid=N, /api/v1/report?pid=N, /healthz.\n"
      "Each process's recording is a directory under --dir: heapdrift report DIR/<process>.");
  command->add_option("--listen", settings->listen, "unix:/path.sock for agents")->required();
  command->add_option("--dir", settings->dir, "Where recordings are kept")->required();
  command->add_option("--http", settings->http, "HOST:PORT for HTTP (default 127.0.0.1:9464)");
  command->add_flag("--allow-remote", settings->allow_remote,
                    "Allow --http on an address other than loopback");
  command->add_option("--socket-group", settings->socket_group,
                      "Let this group's processes connect (socket mode 0660)");
  AddDurationOption(command, "--retain", &settings->retain,
                    "Delete recordings older than this (default 7d)", std::chrono::seconds(1),
                    std::chrono::hours(24 * 3650));
  AddSizeOption(command, "--max-disk", &settings->max_disk,
                "Keep recordings within this many bytes (default 1GiB)", 64 << 10, kMaxSizeLimit);
  command->add_option("--group", settings->groups,
                      "NAME=REGEX: a named group of call sites (heapdrift_group_live_bytes)");
  AddCountOption(command, "--top", &settings->top, "Call sites exported per process (default 20)",
                 1, 1000);
  AddCountOption(command, "--max-series", &settings->max_series,
                 "Call-site series per scrape, all processes (default 2000)", 1, 1'000'000);
  AddDurationOption(command, "--window", &settings->window,
                    "Span of the growth statistics (default 10m)", std::chrono::seconds(5),
                    std::chrono::hours(24));
  AddDurationOption(command, "--hold", &settings->hold,
                    "How long an exported site stays after leaving the top (default 1h)",
                    std::chrono::seconds(0), std::chrono::hours(24 * 7));
  AddDurationOption(command, "--refresh", &settings->refresh,
                    "Longest a scrape reuses an analysis (default 5s)",
                    std::chrono::milliseconds(100), std::chrono::hours(1));
  command->add_option("--wrapper", settings->wrappers, "Allocation wrapper to skip (xmalloc)");
  command->callback([settings, exit_code] {
    auto usage = [exit_code](const std::string& message) {
      std::fprintf(stderr, "heapdrift: %s\n", message.c_str());
      *exit_code = kExitUsage;
    };
    serve::ServeSettings serve;
    if (settings->listen.rfind("unix:", 0) != 0 || settings->listen.size() == 5) {
      return usage("--listen takes unix:/path.sock, not '" + settings->listen + "'");
    }
    serve.socket_path = settings->listen.substr(5);
    size_t colon = settings->http.rfind(':');
    char* end = nullptr;
    long port = colon == std::string::npos ? -1
                                           : std::strtol(settings->http.c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || end == nullptr || *end != '\0' ||
        colon + 1 == settings->http.size() || port < 0 || port > 65535) {
      return usage("--http takes HOST:PORT (e.g. 127.0.0.1:9464), not '" + settings->http + "'");
    }
    serve.http_host = settings->http.substr(0, colon);
    if (serve.http_host.size() > 2 && serve.http_host.front() == '[') {
      serve.http_host = serve.http_host.substr(1, serve.http_host.size() - 2);
    }
    serve.http_port = static_cast<int>(port);
    if (!IsLoopback(serve.http_host) && !settings->allow_remote) {
      return usage("--http " + settings->http +
                   " is not a loopback address: metrics and heap profiles would be open to the "
                   "network (add --allow-remote if that is meant)");
    }
    if (!settings->socket_group.empty()) {
      group* found = getgrnam(settings->socket_group.c_str());
      if (found == nullptr) return usage("--socket-group: no group " + settings->socket_group);
      serve.socket_group = found->gr_gid;
    }
    serve.directory = settings->dir;
    serve.retention.max_age_seconds = static_cast<double>(settings->retain.count()) / 1000;
    serve.retention.max_bytes = settings->max_disk;
    serve.max_series = settings->max_series;
    serve::MonitorSettings& monitor = serve.monitor;
    monitor.window_seconds = static_cast<double>(settings->window.count()) / 1000;
    monitor.hold_seconds = static_cast<double>(settings->hold.count()) / 1000;
    monitor.refresh_seconds = static_cast<double>(settings->refresh.count()) / 1000;
    monitor.top_sites = settings->top;
    monitor.wrappers = settings->wrappers;
    for (const std::string& text : settings->groups) {
      serve::GroupPattern group;
      std::string error;
      if (!ParseGroup(text, &group, &error)) return usage(error);
      monitor.groups.push_back(std::move(group));
    }
    struct sigaction stop {};
    stop.sa_handler = OnStopSignal;  // no SA_RESTART: poll returns at once
    sigemptyset(&stop.sa_mask);
    sigaction(SIGINT, &stop, nullptr);
    sigaction(SIGTERM, &stop, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a scraper that hangs up mid-answer
    serve::Daemon daemon(std::move(serve));
    std::string error;
    if (!daemon.Run(g_stop, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = kExitCannotRun;
      return;
    }
    *exit_code = kExitOk;
  });
}

}  // namespace heapdrift::cli
