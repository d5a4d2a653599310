#include "byte_buffer.h"

#include <cstring>

#include "page_arena.h"

namespace heapdrift::agent {

void ByteBuffer::Release() {
  UnmapPages(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

bool ByteBuffer::Reserve(size_t count) {
  if (size_ + count <= capacity_) return true;
  size_t capacity = capacity_ == 0 ? 64 * 1024 : capacity_;
  while (capacity < size_ + count) capacity *= 2;
  void* grown = data_ == nullptr ? MapPages(capacity) : RemapPages(data_, capacity_, capacity);
  if (grown == nullptr) return false;
  data_ = static_cast<uint8_t*>(grown);
  capacity_ = capacity;
  return true;
}

void ByteBuffer::Append(const void* data, size_t count) {
  std::memcpy(data_ + size_, data, count);
  size_ += count;
}

void ByteBuffer::Trim(size_t keep_capacity) {
  if (capacity_ > keep_capacity && size_ == 0) Release();
}

}  // namespace heapdrift::agent
