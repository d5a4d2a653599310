// Sessions of a toy web shop, with the bug from the incident: the sweeper
// drops expired sessions that hold a cart from the store without freeing
// them. Everything else about sessions is correct, so their memory is flat
// except for that one path.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace shop {

struct CartItem {
  uint64_t product_id;
  uint32_t quantity;
  char description[116];
};

// One allocation per session: the cart lives inside it, so everything the
// bug leaks comes from a single call site (SessionStore::CreateSession).
struct Session {
  uint64_t id;
  std::chrono::steady_clock::time_point expires_at;
  std::string user;  // short names: kept inline by the small-string optimisation
  std::array<CartItem, 8> cart;
  uint32_t cart_size = 0;
  char csrf_token[64];
  char preferences[512];
};

class SessionStore {
 public:
  // `fixed`: expire every session correctly (the patched build).
  SessionStore(std::chrono::milliseconds ttl, bool fixed) : ttl_(ttl), fixed_(fixed) {}
  // Frees the sessions still open at shutdown (the leaked ones are gone
  // from the map: that is the bug).
  ~SessionStore();

  Session* CreateSession(const std::string& user);
  void AddToCart(Session* session, uint64_t product_id, uint32_t quantity);
  // Removes expired sessions; called periodically by the sweeper thread.
  void ExpireSessions();

  // Bytes the bug has leaked so far, counted as the allocator was asked for
  // them (what heapdrift estimates), so the example can state its true rate.
  uint64_t leaked_bytes() const { return leaked_bytes_.load(); }
  // When the first session leaked: the leak runs from then on.
  std::chrono::steady_clock::time_point first_leak() const { return first_leak_; }
  size_t live_sessions();

 private:
  void Forget(Session* session);

  std::chrono::milliseconds ttl_;
  bool fixed_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, Session*> sessions_;
  uint64_t next_id_ = 1;
  std::atomic<uint64_t> leaked_bytes_{0};
  std::chrono::steady_clock::time_point first_leak_{};  // guarded by mutex_
};

}  // namespace shop
