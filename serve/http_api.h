// What `heapdrift serve` answers over HTTP (loopback by default):
//   /metrics                   Prometheus text format 0.0.4
//   /debug/pprof/heap?pid=N    the live heap now, gzipped pprof (go tool pprof reads it)
//   /api/v1/report?pid=N       the ranked suspects, as `report --json` prints them
//   /healthz                   "ok"
//   /                          a page linking the above
// ?pid may be left out while one process is monitored.
#pragma once

namespace httplib {
class Server;
}

namespace heapdrift::serve {

class Daemon;

void RegisterEndpoints(httplib::Server& server, Daemon& daemon);

}  // namespace heapdrift::serve
