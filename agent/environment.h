// The agent's access to the environment: libc's own getenv, setenv and
// unsetenv, never the symbols of those names that come first in the search
// order. Hosts may define them: bash does, over its shell variables. Called
// from our constructor, bash's versions run bash code before its main (its
// variable tables get built while the agent ignores allocations, so every
// variable later looked like a leak) and leave libc's environ, which main
// and the programs bash runs inherit, untouched (LD_PRELOAD removal and the
// tree's mark were lost).
#pragma once

namespace heapdrift::agent {

// Resolves libc's functions; from the constructor, before any other call.
// Keeps the default symbols when libc cannot be asked (a static-libc host).
void ResolveEnvironment();

const char* GetEnv(const char* name);
void SetEnv(const char* name, const char* value);
void UnsetEnv(const char* name);

}  // namespace heapdrift::agent
