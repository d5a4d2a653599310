#include "http_api.h"

#include <httplib.h>

#include <cstdlib>
#include <string>

#include "daemon.h"
#include "format.h"
#include "prometheus_text.h"

namespace heapdrift::serve {
namespace {

// The process a request names (?pid=N), or nullptr with the answer set.
std::shared_ptr<MonitoredProcess> Target(Daemon& daemon, const httplib::Request& request,
                                         httplib::Response& response) {
  long pid = 0;
  if (request.has_param("pid")) {
    std::string text = request.get_param_value("pid");
    char* end = nullptr;
    pid = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || pid <= 0 || pid > 4194304) {
      response.status = 400;
      response.set_content("bad pid: " + text + "\n", "text/plain");
      return nullptr;
    }
  }
  std::string error;
  std::shared_ptr<MonitoredProcess> process = daemon.Find(static_cast<pid_t>(pid), &error);
  if (!process) {
    response.status = pid == 0 ? 400 : 404;
    response.set_content(error + "\n", "text/plain");
  }
  return process;
}

}  // namespace

void RegisterEndpoints(httplib::Server& server, Daemon& daemon) {
  server.Get("/metrics", [&daemon](const httplib::Request&, httplib::Response& response) {
    response.set_content(daemon.MetricsText(), kPrometheusContentType);
  });
  auto heap = [&daemon](const httplib::Request& request, httplib::Response& response) {
    if (auto process = Target(daemon, request, response)) {
      response.set_content(process->PprofGzip(), "application/octet-stream");
      response.set_header("Content-Disposition", "attachment; filename=\"heap.pb.gz\"");
    }
  };
  server.Get("/debug/pprof/heap", heap);
  server.Get("/debug/pprof/allocs", heap);  // Parca's and Alloy's other default path
  server.Get("/api/v1/report", [&daemon](const httplib::Request& request,
                                         httplib::Response& response) {
    if (auto process = Target(daemon, request, response)) {
      response.set_content(process->ReportJson(20).dump(2) + "\n", "application/json");
    }
  });
  server.Get("/report", [&daemon](const httplib::Request& request, httplib::Response& response) {
    if (auto process = Target(daemon, request, response)) {
      response.set_content(process->ReportPage(20), "text/html; charset=utf-8");
    }
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server.Get("/", [&daemon](const httplib::Request&, httplib::Response& response) {
    std::string page =
        "<!doctype html><title>heapdrift serve</title><h1>heapdrift serve</h1>"
        "<p><a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a></p><ul>";
    for (const auto& process : daemon.Processes()) {
      std::string pid = std::to_string(process->identity().pid);
      page += "<li>" + HtmlEscape(process->identity().comm) + " (pid " + pid +
              "): <a href=\"/report?pid=" + pid + "\">report</a> · "
              "<a href=\"/api/v1/report?pid=" + pid + "\">report as JSON</a> · "
              "<a href=\"/debug/pprof/heap?pid=" + pid + "\">heap profile</a></li>";
    }
    response.set_content(page + "</ul>\n", "text/html; charset=utf-8");
  });
}

}  // namespace heapdrift::serve
