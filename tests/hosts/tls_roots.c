/* Thread-local storage as a root: a static __thread variable of the main
 * thread (5,551 bytes), a pthread key's value on a thread still running at
 * exit (5,552), and, in a library loaded with dlopen, its dynamic TLS
 * (5,553): all reachable, as in LSan's tls_* and
 * leak_check_at_exit cases. The library is argv[1]. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

__thread void* t_static;
static pthread_key_t g_key;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_ready = PTHREAD_COND_INITIALIZER;
static int g_keyed;

static void* KeyHolder(void* unused) {
  (void)unused;
  pthread_setspecific(g_key, malloc(5552));
  pthread_mutex_lock(&g_lock);
  g_keyed = 1;
  pthread_cond_signal(&g_ready);
  pthread_mutex_unlock(&g_lock);
  for (;;) pause();
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  t_static = malloc(5551);
  pthread_key_create(&g_key, NULL);
  pthread_t holder;
  pthread_create(&holder, NULL, KeyHolder, NULL);
  pthread_mutex_lock(&g_lock);
  while (!g_keyed) pthread_cond_wait(&g_ready, &g_lock);
  pthread_mutex_unlock(&g_lock);
  void* library = dlopen(argv[1], RTLD_NOW);
  void (*keep)(size_t) = library ? (void (*)(size_t))dlsym(library, "KeepInDynamicTls") : NULL;
  if (keep == NULL) return 3;
  keep(5553);
  return 0;
}
