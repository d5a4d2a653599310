// A parsed HTTP request head, and two parsers: one with the leak, one fixed.
#pragma once

#include <string>
#include <vector>

struct Request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
};

// nullptr when the text is malformed. The caller frees with FreeRequest.
Request* ParseRequest(const char* text);       // leaks on a malformed header
Request* ParseRequestFixed(const char* text);  // does not
void FreeRequest(Request* request);
