// request_parser: the kind of leak a CI leak check exists for. The parser
// frees what it built on the happy path but forgets to on one error path
// (a header line without a colon), so every malformed request leaks its
// Request. --fixed owns the request with unique_ptr and leaks nothing.
//
// Like most programs it also keeps one-time allocations until exit: a
// global table of known methods and a cache filled on first use. They are
// still reachable when the program ends and are not leaks; a checker that
// flags them cries wolf.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "request.h"

namespace {

// One-time state, reachable at exit through globals.
std::map<std::string, int>* g_method_ids = nullptr;
std::vector<std::string> g_recent_paths;

const std::map<std::string, int>& MethodIds() {
  if (g_method_ids == nullptr) {
    g_method_ids = new std::map<std::string, int>{{"GET", 1}, {"POST", 2}, {"PUT", 3}};
  }
  return *g_method_ids;
}

const char* const kRequests[] = {
    "GET /cart HTTP/1.1\nHost: shop\nCookie: session=42\n",
    "POST /checkout HTTP/1.1\nHost: shop\nContent-Length: 12\n",
    "GET /search HTTP/1.1\nHost shop\n",  // malformed header: the error path
    "PUT /profile HTTP/1.1\nHost: shop\n",
};

}  // namespace

int main(int argc, char** argv) {
  bool fixed = argc > 1 && std::strcmp(argv[1], "--fixed") == 0;
  int rounds = 50;
  int parsed = 0, rejected = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const char* text : kRequests) {
      Request* request = fixed ? ParseRequestFixed(text) : ParseRequest(text);
      if (request == nullptr) {
        ++rejected;
        continue;
      }
      if (MethodIds().count(request->method) != 0) ++parsed;
      if (g_recent_paths.size() < 16) g_recent_paths.push_back(request->path);
      FreeRequest(request);
    }
  }
  std::printf("%d parsed, %d rejected\n", parsed, rejected);
  return 0;
}
