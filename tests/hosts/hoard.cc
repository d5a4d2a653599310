// A logical leak: sessions expire, and the sweeper moves them into a global
// map of expired sessions "kept for auditing" that nobody ever reads or
// clears. Everything stays reachable; the memory still grows without bound.
// Each request also allocates scratch (freed at once) and live sessions
// come and go, so the hoard's site must stand out from turnover.
// Usage: hoard MILLISECONDS
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Session {
  long id;
  std::chrono::steady_clock::time_point expires;
  char payload[1000];
};

std::map<long, std::unique_ptr<Session>> g_active;
std::map<long, std::unique_ptr<Session>> g_expired;  // the hoard: only ever grows

__attribute__((noinline)) std::unique_ptr<Session> OpenSession(long id) {
  auto session = std::make_unique<Session>();
  session->id = id;
  session->expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  std::memset(session->payload, 'p', sizeof(session->payload));
  return session;
}

__attribute__((noinline)) void ExpireSessions() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = g_active.begin(); it != g_active.end();) {
    if (it->second->expires > now) {
      ++it;
      continue;
    }
    g_expired.emplace(it->first, std::move(it->second));
    it = g_active.erase(it);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atol(argv[1]));
  long next = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 5; ++i) {
      std::vector<char> scratch(8192 + static_cast<size_t>(next % 4096), 's');
      g_active.emplace(next, OpenSession(next));
      ++next;
    }
    ExpireSessions();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::printf("hoard: %zu expired sessions kept, %zu active\n", g_expired.size(), g_active.size());
  return 0;
}
