// Allocates through every operator new variant and frees half through the
// matching (sized, aligned, nothrow) delete. Each variant uses a size no other
// allocation in the program has, so a recording can be checked per variant:
// 100 allocated, 50 live, of that exact size.
#include <cstdio>
#include <new>
#include <vector>

struct Plain {
  char bytes[3001];
};
struct alignas(64) Aligned {
  char bytes[3072];
};

std::vector<void*>* g_keep = new std::vector<void*>();  // never freed: stays live

int main() {
  g_keep->reserve(1000);
  constexpr int kCount = 100;
  std::vector<Plain*> plain;
  std::vector<char*> arrays, nothrow_arrays;
  std::vector<Aligned*> aligned;
  std::vector<void*> explicit_aligned;
  for (int i = 0; i < kCount; ++i) {
    plain.push_back(new Plain);                                  // operator new
    arrays.push_back(new char[3002]);                            // operator new[]
    nothrow_arrays.push_back(new (std::nothrow) char[3003]);     // nothrow new[]
    aligned.push_back(new Aligned);                              // aligned new
    explicit_aligned.push_back(::operator new(3200, std::align_val_t(128)));
  }
  for (int i = 0; i < kCount; ++i) {
    if (i % 2 == 0) {
      delete plain[i];                                           // sized delete
      delete[] arrays[i];
      delete[] nothrow_arrays[i];
      delete aligned[i];                                         // aligned delete
      ::operator delete(explicit_aligned[i], 3200, std::align_val_t(128));
    } else {
      g_keep->push_back(plain[i]);
      g_keep->push_back(arrays[i]);
      g_keep->push_back(nothrow_arrays[i]);
      g_keep->push_back(aligned[i]);
      g_keep->push_back(explicit_aligned[i]);
    }
  }
  std::printf("kept %zu blocks\n", g_keep->size());
  return 0;
}
