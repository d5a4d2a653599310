#include "thread_state.h"

namespace heapdrift::agent {

__thread ThreadState tls_state __attribute__((tls_model("initial-exec")));

}  // namespace heapdrift::agent
