// A growable byte buffer on mmap'd pages, for encoding snapshots on the
// collector thread without touching the host's heap. Not thread-safe.
// Trivially destructible on purpose: the agent's globals must outlive every
// exit handler, so nothing of theirs may be destroyed at exit. Release()
// returns the pages explicitly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapdrift::agent {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  void Release();

  // Room for `count` more bytes; false if the pages cannot be mapped (the
  // buffer is then unchanged and the caller gives the snapshot up).
  bool Reserve(size_t count);
  void Append(const void* data, size_t count);  // after Reserve
  uint8_t* data() { return data_; }
  size_t size() const { return size_; }
  void Clear() { size_ = 0; }
  // Shrinks back after an oversized snapshot so idle memory stays small.
  void Trim(size_t keep_capacity);

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace heapdrift::agent
