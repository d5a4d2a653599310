#include "session_store.h"

#include <cstring>

namespace shop {

SessionStore::~SessionStore() {
  for (auto& [id, session] : sessions_) delete session;
}

Session* SessionStore::CreateSession(const std::string& user) {
  auto* session = new Session;
  session->user = user;
  session->expires_at = std::chrono::steady_clock::now() + ttl_;
  std::memset(session->csrf_token, 'x', sizeof(session->csrf_token));
  std::memset(session->preferences, 0, sizeof(session->preferences));
  std::lock_guard lock(mutex_);
  session->id = next_id_++;
  sessions_.emplace(session->id, session);
  return session;
}

void SessionStore::AddToCart(Session* session, uint64_t product_id, uint32_t quantity) {
  CartItem item{product_id, quantity, {}};
  std::memcpy(item.description, "gift", 5);
  std::lock_guard lock(mutex_);
  if (session->cart_size < session->cart.size()) session->cart[session->cart_size++] = item;
}

void SessionStore::Forget(Session* session) {
  // The heap bytes a leaked session holds, as requested from malloc.
  uint64_t bytes = sizeof(Session);
  if (session->user.capacity() > 15) bytes += session->user.capacity() + 1;
  if (leaked_bytes_ == 0) first_leak_ = std::chrono::steady_clock::now();
  leaked_bytes_ += bytes;
}

void SessionStore::ExpireSessions() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session* session = it->second;
    if (session->expires_at > now) {
      ++it;
      continue;
    }
    it = sessions_.erase(it);
    if (session->cart_size > 0 && !fixed_) {
      // THE BUG: a session that still holds a cart is "kept for checkout
      // recovery" -- by nobody. It is never freed.
      Forget(session);
      continue;
    }
    delete session;
  }
}

size_t SessionStore::live_sessions() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace shop
