// session_leak: a small multithreaded "server" that reproduces the incident.
//
// Request handlers each: read a request body into a fresh buffer (high churn:
// ~100 MB/s at the default rate, all freed), look up a product page in an
// LRU cache (48 MiB, full within ~3 s, then its entries turn over every ~7 s
// while its size stays flat: the decoy a growth test must not call a leak),
// and create a session; some
// sessions get a cart. A sweeper thread expires sessions after a TTL, and
// forgets to free those with a cart (session_store.cc): the leak, a few
// hundred KB/s. --fixed runs the patched sweeper.
//
// At exit it prints the true leak rate, to check heapdrift's estimate against.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "session_store.h"

namespace {

struct Flags {
  double duration_sec = 30;
  int threads = 4;
  int rate = 2000;  // requests per second, all threads together
  int cart_percent = 15;
  double cache_mib = 48;
  int products = 4000;
  uint64_t seed = 0;
  bool fixed = false;
};

void Usage() {
  std::fprintf(stderr,
               "usage: session_leak [--duration-sec S] [--threads N] [--rate REQ_PER_SEC]\n"
               "                    [--cart-percent P] [--cache-mib M] [--products N]\n"
               "                    [--seed N] [--fixed]\n");
}

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&](double* out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      *out = std::strtod(argv[++i], &end);
      return *end == '\0' && *out >= 0;
    };
    double number = 0;
    if (flag == "--fixed") {
      flags->fixed = true;
    } else if (flag == "--duration-sec" && value(&number)) {
      flags->duration_sec = number;
    } else if (flag == "--threads" && value(&number) && number >= 1) {
      flags->threads = static_cast<int>(number);
    } else if (flag == "--rate" && value(&number) && number >= 1) {
      flags->rate = static_cast<int>(number);
    } else if (flag == "--cart-percent" && value(&number) && number <= 100) {
      flags->cart_percent = static_cast<int>(number);
    } else if (flag == "--cache-mib" && value(&number)) {
      flags->cache_mib = number;
    } else if (flag == "--products" && value(&number) && number >= 1) {
      flags->products = static_cast<int>(number);
    } else if (flag == "--seed" && value(&number)) {
      flags->seed = static_cast<uint64_t>(number);
    } else {
      return false;
    }
  }
  return true;
}

// Product pages: an LRU cache that fills to its cap, then only replaces.
// With P products requested uniformly and C pages, it fills as
// C(t) = P (1 - exp(-rate t / P)) and then misses 1 - C/P of lookups, so each
// page lives C / (rate (1 - C/P)) seconds on average: 3,072 pages of 16 KiB
// out of 4,000 products at 2,000 requests/s fill in ~3 s and turn over
// every ~6.6 s.
class ProductCache {
 public:
  static constexpr size_t kPageBytes = 16 * 1024;

  explicit ProductCache(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  size_t PageSize(uint64_t product_id) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(product_id); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->html.size();
    }
    if (lru_.size() == capacity_) {
      index_.erase(lru_.back().product_id);
      lru_.pop_back();
    }
    lru_.push_front(Page{product_id, RenderPage(product_id)});
    index_[product_id] = lru_.begin();
    return lru_.front().html.size();
  }

 private:
  struct Page {
    uint64_t product_id;
    std::string html;
  };
  static std::string RenderPage(uint64_t product_id) {
    std::string html(kPageBytes, ' ');
    std::snprintf(html.data(), html.size(), "<html>product %llu</html>",
                  static_cast<unsigned long long>(product_id));
    return html;
  }

  size_t capacity_;
  std::mutex mutex_;
  std::list<Page> lru_;
  std::unordered_map<uint64_t, std::list<Page>::iterator> index_;
};

// The request body: allocated, touched and freed on every request.
size_t ReadRequestBody(std::mt19937_64& random) {
  size_t size = 16 * 1024 + random() % (64 * 1024);
  std::vector<char> body(size);
  std::memset(body.data(), 'r', size);
  size_t checksum = 0;
  for (size_t i = 0; i < size; i += 4096) checksum += body[i];
  return checksum;
}

std::atomic<uint64_t> g_requests{0};

void HandleRequest(shop::SessionStore& sessions, ProductCache& cache, int cart_percent,
                   int products, std::mt19937_64& random) {
  size_t work = ReadRequestBody(random);
  work += cache.PageSize(random() % static_cast<uint64_t>(products));
  shop::Session* session = sessions.CreateSession("customer-" + std::to_string(random() % 100000));
  if (static_cast<int>(random() % 100) < cart_percent) {
    int items = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < items; ++i) sessions.AddToCart(session, random() % 20000, 1);
  }
  if (work == 1) std::puts("");  // keeps the work observable
  ++g_requests;
}

void ServeRequests(shop::SessionStore& sessions, ProductCache& cache, const Flags& flags,
                   int worker, std::chrono::steady_clock::time_point end) {
  std::mt19937_64 random(1234 + flags.seed * 1000 + static_cast<uint64_t>(worker));
  // Paced in 10 ms ticks so the load is steady, not bursty.
  const double per_tick = static_cast<double>(flags.rate) / flags.threads / 100.0;
  double owed = 0;
  auto tick = std::chrono::steady_clock::now();
  while (tick < end) {
    owed += per_tick;
    for (; owed >= 1; owed -= 1) {
      HandleRequest(sessions, cache, flags.cart_percent, flags.products, random);
    }
    tick += std::chrono::milliseconds(10);
    std::this_thread::sleep_until(tick);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    Usage();
    return 2;
  }
  shop::SessionStore sessions(std::chrono::milliseconds(1000), flags.fixed);
  ProductCache cache(static_cast<size_t>(flags.cache_mib * 1024 * 1024) /
                     ProductCache::kPageBytes);
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(flags.duration_sec));
  std::atomic<bool> running{true};
  std::thread sweeper([&] {
    while (running) {
      sessions.ExpireSessions();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<std::thread> workers;
  for (int i = 0; i < flags.threads; ++i) {
    workers.emplace_back(ServeRequests, std::ref(sessions), std::ref(cache), std::cref(flags), i,
                         end);
  }
  for (std::thread& worker : workers) worker.join();
  running = false;
  sweeper.join();
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - start).count();
  // Sessions start leaking once the first ones expire (one TTL in): the rate
  // is over the time since then.
  double leaking = sessions.leaked_bytes() == 0
                       ? seconds
                       : std::chrono::duration<double>(now - sessions.first_leak()).count();
  std::fprintf(stderr,
               "session_leak: %llu requests in %.1f s; true leak rate %.0f bytes/s "
               "(%llu bytes leaked in the last %.1f s)%s\n",
               static_cast<unsigned long long>(g_requests.load()), seconds,
               static_cast<double>(sessions.leaked_bytes()) / leaking,
               static_cast<unsigned long long>(sessions.leaked_bytes()), leaking,
               flags.fixed ? " [fixed]" : "");
  return 0;
}
