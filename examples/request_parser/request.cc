#include "request.h"

#include <memory>
#include <sstream>

namespace {

// Fills `request` from `text`; false on a header line without a colon.
bool ParseInto(const char* text, Request* request) {
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  std::istringstream request_line(line);
  request_line >> request->method >> request->path;
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    request->headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return true;
}

}  // namespace

Request* ParseRequest(const char* text) {
  Request* request = new Request;  // the leaked allocation
  if (!ParseInto(text, request)) return nullptr;  // BUG: request is not deleted
  return request;
}

Request* ParseRequestFixed(const char* text) {
  auto request = std::make_unique<Request>();
  if (!ParseInto(text, request.get())) return nullptr;
  return request.release();
}

void FreeRequest(Request* request) { delete request; }
