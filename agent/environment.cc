#include "environment.h"

#include <dlfcn.h>

#include <cstdlib>

namespace heapdrift::agent {
namespace {

struct Environment {
  char* (*get)(const char*) = ::getenv;
  int (*set)(const char*, const char*, int) = ::setenv;
  int (*unset)(const char*) = ::unsetenv;
};

Environment g_environment;

template <typename Function>
void ResolveFrom(void* library, const char* name, Function* function) {
  if (void* symbol = dlsym(library, name); symbol != nullptr) {
    *function = reinterpret_cast<Function>(symbol);
  }
}

}  // namespace

void ResolveEnvironment() {
  // A handle lookup searches libc (and what it depends on), not the global
  // scope where the executable's own definitions come first.
  void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (libc == nullptr) return;
  ResolveFrom(libc, "getenv", &g_environment.get);
  ResolveFrom(libc, "setenv", &g_environment.set);
  ResolveFrom(libc, "unsetenv", &g_environment.unset);
  dlclose(libc);  // only drops the reference RTLD_NOLOAD took; libc stays
}

const char* GetEnv(const char* name) { return g_environment.get(name); }
void SetEnv(const char* name, const char* value) { g_environment.set(name, value, 1); }
void UnsetEnv(const char* name) { g_environment.unset(name); }

}  // namespace heapdrift::agent
