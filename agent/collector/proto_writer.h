// A protobuf wire-format encoder that writes straight into a ByteBuffer.
//
// Why not libprotobuf: the agent may not drag a protobuf runtime into a host
// that may link its own version (symbol clashes, descriptor-pool conflicts,
// static initialisers and allocation inside malloc hooks). The wire format is
// small: varints, fixed64, and length-delimited fields. Nested messages
// reserve a 5-byte padded varint for their length and patch it when they end,
// so encoding is one pass with no size precomputation. Every protobuf parser
// accepts padded varints. tests/agent/proto_writer_test.cc decodes the output
// with libprotobuf's generated classes.
//
// Field numbers come from proto/heapdrift.proto. Not thread-safe; never
// allocates from the heap; once a Reserve fails the writer is marked failed
// and ignores further writes.
#pragma once

#include <cstdint>
#include <cstring>

#include "byte_buffer.h"

namespace heapdrift::agent {

class ProtoWriter {
 public:
  explicit ProtoWriter(ByteBuffer* buffer) : buffer_(buffer) {}

  bool ok() const { return ok_; }

  void Varint(uint32_t field, uint64_t value) {
    if (value == 0) return;  // proto3 default: omitted
    Tag(field, 0);
    RawVarint(value);
  }
  // A field declared `optional`: present even when zero.
  void PresentVarint(uint32_t field, uint64_t value) {
    Tag(field, 0);
    RawVarint(value);
  }
  void SignedVarint(uint32_t field, int64_t value) { Varint(field, static_cast<uint64_t>(value)); }
  void Bool(uint32_t field, bool value) { Varint(field, value ? 1 : 0); }
  // A repeated entry must be written even when empty (`keep_empty`).
  void Bytes(uint32_t field, const void* data, size_t size, bool keep_empty = false) {
    if (size == 0 && !keep_empty) return;
    Tag(field, 2);
    RawVarint(size);
    Raw(data, size);
  }
  void String(uint32_t field, const char* text) { Bytes(field, text, std::strlen(text)); }
  void PackedVarints(uint32_t field, const uint64_t* values, size_t count);

  // Nested message: Begin returns a token for End.
  size_t BeginMessage(uint32_t field) {
    Tag(field, 2);
    return ReserveLength();
  }
  void EndMessage(size_t token) { PatchLength(token); }

  // A top-level length-delimited record (what ParseDelimitedFrom reads).
  size_t BeginRecord() { return ReserveLength(); }
  void EndRecord(size_t token) { PatchLength(token); }

 private:
  static constexpr size_t kLengthBytes = 5;

  void Tag(uint32_t field, uint32_t wire_type) { RawVarint((uint64_t{field} << 3) | wire_type); }
  void RawVarint(uint64_t value) {
    uint8_t bytes[10];
    size_t count = 0;
    while (value >= 0x80) {
      bytes[count++] = static_cast<uint8_t>(value) | 0x80;
      value >>= 7;
    }
    bytes[count++] = static_cast<uint8_t>(value);
    Raw(bytes, count);
  }
  void Raw(const void* data, size_t size) {
    if (size == 0) return;
    if (!ok_ || !buffer_->Reserve(size)) {
      ok_ = false;
      return;
    }
    buffer_->Append(data, size);
  }
  size_t ReserveLength() {
    const uint8_t zeros[kLengthBytes] = {};
    size_t token = buffer_->size();
    Raw(zeros, kLengthBytes);
    return token;
  }
  void PatchLength(size_t token);

  ByteBuffer* buffer_;
  bool ok_ = true;
};

}  // namespace heapdrift::agent
