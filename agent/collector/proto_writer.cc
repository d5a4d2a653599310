#include "proto_writer.h"

namespace heapdrift::agent {

void ProtoWriter::PatchLength(size_t token) {
  if (!ok_) return;
  uint64_t length = buffer_->size() - token - kLengthBytes;
  if (length >= (uint64_t{1} << 35)) {
    ok_ = false;
    return;
  }
  uint8_t* out = buffer_->data() + token;
  for (size_t i = 0; i < kLengthBytes; ++i) {
    out[i] = static_cast<uint8_t>(length & 0x7f) | (i + 1 < kLengthBytes ? 0x80 : 0);
    length >>= 7;
  }
}

void ProtoWriter::PackedVarints(uint32_t field, const uint64_t* values, size_t count) {
  if (count == 0) return;
  size_t token = BeginMessage(field);
  for (size_t i = 0; i < count; ++i) RawVarint(values[i]);
  EndMessage(token);
}

}  // namespace heapdrift::agent
