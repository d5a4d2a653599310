#include "call_frame_info.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstring>

namespace heapdrift::agent {
namespace {

// DWARF pointer encodings (DW_EH_PE_*): the low nibble is the format, the
// next three bits what it is relative to.
constexpr uint8_t kIndirect = 0x80;
constexpr uint8_t kFormatMask = 0x0f;
constexpr uint8_t kRelativeMask = 0x70;
constexpr uint8_t kAbsolute = 0x00, kUleb128 = 0x01, kUdata2 = 0x02, kUdata4 = 0x03,
                  kUdata8 = 0x04, kSleb128 = 0x09, kSdata2 = 0x0a, kSdata4 = 0x0b,
                  kSdata8 = 0x0c;
constexpr uint8_t kPcRelative = 0x10, kDataRelative = 0x30;

// x86-64 DWARF register numbers.
constexpr uint64_t kRbp = 6, kRsp = 7, kReturnAddress = 16;

// Bounds-checked reader over one object's mapped unwind data.
class Reader {
 public:
  Reader(const uint8_t* at, const uint8_t* end) : at_(at), end_(end) {}
  bool ok() const { return ok_; }
  const uint8_t* at() const { return at_; }
  bool AtEnd() const { return at_ >= end_; }

  template <typename T>
  T Fixed() {
    T value{};
    if (!ok_ || end_ - at_ < static_cast<ptrdiff_t>(sizeof(T))) {
      ok_ = false;
      return value;
    }
    std::memcpy(&value, at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  uint64_t Uleb() {
    uint64_t value = 0;
    for (int shift = 0; ok_; shift += 7) {
      uint8_t byte = Fixed<uint8_t>();
      if (shift < 64) value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    return value;
  }
  int64_t Sleb() {
    uint64_t value = 0;
    int shift = 0;
    uint8_t byte = 0;
    do {
      byte = Fixed<uint8_t>();
      if (shift < 64) value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
    } while (ok_ && (byte & 0x80) != 0);
    if (shift < 64 && (byte & 0x40) != 0) value |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(value);
  }
  // A pointer in `encoding`; `data_base` is the .eh_frame_hdr for datarel.
  uint64_t Pointer(uint8_t encoding, uintptr_t data_base) {
    uintptr_t place = reinterpret_cast<uintptr_t>(at_);
    uint64_t value = 0;
    switch (encoding & kFormatMask) {
      case kAbsolute: value = Fixed<uint64_t>(); break;
      case kUleb128: value = Uleb(); break;
      case kUdata2: value = Fixed<uint16_t>(); break;
      case kUdata4: value = Fixed<uint32_t>(); break;
      case kUdata8: value = Fixed<uint64_t>(); break;
      case kSleb128: value = static_cast<uint64_t>(Sleb()); break;
      case kSdata2: value = static_cast<uint64_t>(static_cast<int64_t>(Fixed<int16_t>())); break;
      case kSdata4: value = static_cast<uint64_t>(static_cast<int64_t>(Fixed<int32_t>())); break;
      case kSdata8: value = static_cast<uint64_t>(Fixed<int64_t>()); break;
      default: ok_ = false; return 0;
    }
    switch (encoding & kRelativeMask) {
      case 0: break;
      case kPcRelative: value += place; break;
      case kDataRelative: value += data_base; break;
      default: ok_ = false; return 0;  // textrel, funcrel, aligned: not on x86-64 Linux
    }
    if ((encoding & kIndirect) != 0) ok_ = false;  // never in .eh_frame_hdr/FDE ranges
    return value;
  }
  void Skip(uint64_t bytes) {
    if (!ok_ || static_cast<uint64_t>(end_ - at_) < bytes) {
      ok_ = false;
      return;
    }
    at_ += bytes;
  }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
  bool ok_ = true;
};

// The callee-saved registers' DWARF numbers, in CalleeSavedRegister's order.
constexpr uint64_t kCalleeSaved[kCalleeSavedCount] = {3, kRbp, 12, 13, 14, 15};

int CalleeSavedIndex(uint64_t reg) {
  for (int i = 0; i < kCalleeSavedCount; ++i) {
    if (kCalleeSaved[i] == reg) return i;
  }
  return -1;
}

// One row of the CFI table, for the registers an unwinder of ordinary code
// needs: the return address and the callee-saved registers (the stack
// walker uses RBP alone; the exit-time leak scan all of them).
struct Row {
  enum Where : uint8_t { kSame, kUndefined, kAtCfaOffset, kUnsupported };
  uint64_t cfa_register = kRsp;
  int64_t cfa_offset = 8;
  bool cfa_unsupported = false;
  Where return_address = kAtCfaOffset;
  int64_t return_address_offset = -8;
  Where saved[kCalleeSavedCount] = {};
  int64_t saved_offset[kCalleeSavedCount] = {};
};

struct Cie {
  uint64_t code_alignment = 1;
  int64_t data_alignment = -8;
  uint64_t return_address_register = kReturnAddress;
  uint8_t fde_encoding = kAbsolute;
  bool has_augmentation_data = false;
  const uint8_t* instructions = nullptr;
  const uint8_t* end = nullptr;
};

// Reads an entry's length (with the 64-bit escape): the reader is then at
// the entry's body, and *end is where the entry ends.
bool EntryBody(Reader& reader, const uint8_t* limit, const uint8_t** end) {
  uint64_t length = reader.Fixed<uint32_t>();
  if (length == 0xffffffff) length = reader.Fixed<uint64_t>();
  if (!reader.ok() || length == 0 || length > static_cast<uint64_t>(limit - reader.at())) {
    return false;
  }
  *end = reader.at() + length;
  return true;
}

// Applies the CFA instructions in [at, end) to `row` until the location
// passes `target` (FDE instructions) or the end (CIE initial instructions).
bool Execute(const uint8_t* at, const uint8_t* end, const Cie& cie, uint64_t location,
             uint64_t target, const Row& initial, Row* row) {
  constexpr int kStackDepth = 8;
  Row remembered[kStackDepth];
  int depth = 0;
  Reader reader(at, end);
  auto set_register = [&](uint64_t reg, Row::Where where, int64_t offset) {
    if (int index = CalleeSavedIndex(reg); index >= 0) {
      row->saved[index] = where;
      row->saved_offset[index] = offset;
    } else if (reg == cie.return_address_register) {
      row->return_address = where;
      row->return_address_offset = offset;
    } else if (reg == kRsp && where != Row::kSame) {
      row->cfa_unsupported = true;  // RSP saved explicitly: not ordinary code
    }
  };
  auto restore_register = [&](uint64_t reg) {
    if (int index = CalleeSavedIndex(reg); index >= 0) {
      row->saved[index] = initial.saved[index];
      row->saved_offset[index] = initial.saved_offset[index];
    } else if (reg == cie.return_address_register) {
      row->return_address = initial.return_address;
      row->return_address_offset = initial.return_address_offset;
    }
  };
  while (!reader.AtEnd() && reader.ok()) {
    uint8_t opcode = reader.Fixed<uint8_t>();
    uint8_t high = opcode & 0xc0, low = opcode & 0x3f;
    uint64_t advance = 0;
    if (high == 0x40) {  // DW_CFA_advance_loc
      advance = low;
    } else if (high == 0x80) {  // DW_CFA_offset
      set_register(low, Row::kAtCfaOffset, static_cast<int64_t>(reader.Uleb()) * cie.data_alignment);
      continue;
    } else if (high == 0xc0) {  // DW_CFA_restore
      restore_register(low);
      continue;
    } else {
      switch (opcode) {
        case 0x00: break;  // nop
        case 0x01: {  // set_loc
          location = reader.Pointer(cie.fde_encoding, 0);
          if (location > target) return reader.ok();
          break;
        }
        case 0x02: advance = reader.Fixed<uint8_t>(); break;
        case 0x03: advance = reader.Fixed<uint16_t>(); break;
        case 0x04: advance = reader.Fixed<uint32_t>(); break;
        case 0x05: {  // offset_extended
          uint64_t reg = reader.Uleb();
          set_register(reg, Row::kAtCfaOffset, static_cast<int64_t>(reader.Uleb()) * cie.data_alignment);
          break;
        }
        case 0x06: restore_register(reader.Uleb()); break;
        case 0x07: set_register(reader.Uleb(), Row::kUndefined, 0); break;
        case 0x08: set_register(reader.Uleb(), Row::kSame, 0); break;
        case 0x09: {  // register: a register saved in another one
          uint64_t reg = reader.Uleb();
          reader.Uleb();
          set_register(reg, Row::kUnsupported, 0);
          break;
        }
        case 0x0a:  // remember_state
          if (depth == kStackDepth) return false;
          remembered[depth++] = *row;
          break;
        case 0x0b:  // restore_state
          if (depth == 0) return false;
          *row = remembered[--depth];
          break;
        case 0x0c:  // def_cfa
          row->cfa_register = reader.Uleb();
          row->cfa_offset = static_cast<int64_t>(reader.Uleb());
          row->cfa_unsupported = false;
          break;
        case 0x0d: row->cfa_register = reader.Uleb(); break;
        case 0x0e: row->cfa_offset = static_cast<int64_t>(reader.Uleb()); break;
        case 0x0f:  // def_cfa_expression
          row->cfa_unsupported = true;
          reader.Skip(reader.Uleb());
          break;
        case 0x10: {  // expression
          uint64_t reg = reader.Uleb();
          reader.Skip(reader.Uleb());
          set_register(reg, Row::kUnsupported, 0);
          break;
        }
        case 0x11: {  // offset_extended_sf
          uint64_t reg = reader.Uleb();
          set_register(reg, Row::kAtCfaOffset, reader.Sleb() * cie.data_alignment);
          break;
        }
        case 0x12:  // def_cfa_sf
          row->cfa_register = reader.Uleb();
          row->cfa_offset = reader.Sleb() * cie.data_alignment;
          row->cfa_unsupported = false;
          break;
        case 0x13: row->cfa_offset = reader.Sleb() * cie.data_alignment; break;
        case 0x14:    // val_offset
        case 0x15: {  // val_offset_sf
          uint64_t reg = reader.Uleb();
          if (opcode == 0x14) reader.Uleb(); else reader.Sleb();
          set_register(reg, Row::kUnsupported, 0);
          break;
        }
        case 0x16: {  // val_expression
          uint64_t reg = reader.Uleb();
          reader.Skip(reader.Uleb());
          set_register(reg, Row::kUnsupported, 0);
          break;
        }
        case 0x2e: reader.Uleb(); break;  // GNU_args_size
        case 0x2f: {                      // GNU_negative_offset_extended
          uint64_t reg = reader.Uleb();
          set_register(reg, Row::kAtCfaOffset, -static_cast<int64_t>(reader.Uleb()) * cie.data_alignment);
          break;
        }
        default:
          return false;  // an opcode we do not know: better no rule than a wrong one
      }
    }
    if (advance != 0) {
      location += advance * cie.code_alignment;
      if (location > target) return reader.ok();
    }
  }
  return reader.ok();
}

// Skips a pointer of `encoding` (its format only matters).
void SkipPointer(Reader& reader, uint8_t encoding) {
  switch (encoding & kFormatMask) {
    case kAbsolute: case kUdata8: case kSdata8: reader.Skip(8); break;
    case kUdata4: case kSdata4: reader.Skip(4); break;
    case kUdata2: case kSdata2: reader.Skip(2); break;
    case kUleb128: reader.Uleb(); break;
    case kSleb128: reader.Sleb(); break;
    default: reader.Skip(~uint64_t{0}); break;  // unknown: fails the reader
  }
}

// The CIE whose entry starts at `at` (its length field).
bool ReadCie(const uint8_t* at, const uint8_t* limit, Cie* cie) {
  Reader reader(at, limit);
  const uint8_t* end = nullptr;
  if (!EntryBody(reader, limit, &end)) return false;
  reader = Reader(reader.at(), end);
  if (reader.Fixed<uint32_t>() != 0) return false;  // a CIE's id in .eh_frame
  uint8_t version = reader.Fixed<uint8_t>();
  if (version != 1 && version != 3) return false;
  const char* augmentation = reinterpret_cast<const char*>(reader.at());
  size_t length = strnlen(augmentation, static_cast<size_t>(end - reader.at()));
  reader.Skip(length + 1);
  cie->code_alignment = reader.Uleb();
  cie->data_alignment = reader.Sleb();
  cie->return_address_register = version == 1 ? reader.Fixed<uint8_t>() : reader.Uleb();
  if (length > 0 && augmentation[0] == 'z') {
    cie->has_augmentation_data = true;
    uint64_t data_length = reader.Uleb();
    const uint8_t* data_end = reader.at() + data_length;
    for (size_t i = 1; i < length && reader.ok(); ++i) {
      char c = augmentation[i];
      if (c == 'R') {
        cie->fde_encoding = reader.Fixed<uint8_t>();
      } else if (c == 'P') {
        SkipPointer(reader, reader.Fixed<uint8_t>());
      } else if (c == 'L') {
        reader.Fixed<uint8_t>();
      } else if (c != 'S' && c != 'B') {
        break;  // unknown letter: its data is skipped below
      }
    }
    if (!reader.ok() || data_end > end) return false;
    reader = Reader(data_end, end);
  } else if (length > 0) {
    return false;  // "eh" and other pre-'z' augmentations: not on current toolchains
  }
  cie->instructions = reader.at();
  cie->end = end;
  return reader.ok();
}

// glibc's x86-64 __restore_rt: mov $15 (rt_sigreturn), %rax; syscall.
bool IsSigreturnTrampoline(uintptr_t address, const dl_find_object& object) {
  static constexpr uint8_t kCode[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  auto start = reinterpret_cast<uintptr_t>(object.dlfo_map_start);
  auto end = reinterpret_cast<uintptr_t>(object.dlfo_map_end);
  if (address < start || address >= end || end - address < sizeof(kCode)) return false;
  return std::memcmp(reinterpret_cast<const void*>(address), kCode, sizeof(kCode)) == 0;
}

// The FDE covering `pc`, through the .eh_frame_hdr binary search table.
const uint8_t* FindFde(uintptr_t pc, const uint8_t* header, const uint8_t* limit) {
  Reader reader(header, limit);
  if (reader.Fixed<uint8_t>() != 1) return nullptr;
  uint8_t frame_pointer_encoding = reader.Fixed<uint8_t>();
  uint8_t count_encoding = reader.Fixed<uint8_t>();
  uint8_t table_encoding = reader.Fixed<uint8_t>();
  auto base = reinterpret_cast<uintptr_t>(header);
  reader.Pointer(frame_pointer_encoding, base);
  uint64_t count = reader.Pointer(count_encoding, base);
  // Every linker writes (datarel | sdata4) pairs; anything else is left alone.
  constexpr uint8_t kTableEncoding = kDataRelative | kSdata4;
  if (!reader.ok() || count == 0 || table_encoding != kTableEncoding ||
      count > static_cast<uint64_t>(limit - reader.at()) / 8) {
    return nullptr;
  }
  struct Entry {
    int32_t initial_location;
    int32_t fde;
  };
  const uint8_t* table = reader.at();
  auto entry = [&](uint64_t i) {
    Entry value;
    std::memcpy(&value, table + i * sizeof(Entry), sizeof(Entry));
    return value;
  };
  // The last entry whose function starts at or before pc.
  uint64_t low = 0, high = count;
  while (high - low > 1) {
    uint64_t middle = low + (high - low) / 2;
    if (base + static_cast<int64_t>(entry(middle).initial_location) <= pc) {
      low = middle;
    } else {
      high = middle;
    }
  }
  Entry found = entry(low);
  if (base + static_cast<int64_t>(found.initial_location) > pc) return nullptr;
  return header + found.fde;
}

FrameRule RuleFromRow(const Row& row) {
  FrameRule rule;
  if (row.return_address != Row::kAtCfaOffset || row.cfa_unsupported ||
      (row.cfa_register != kRsp && row.cfa_register != kRbp) ||
      row.saved[kSavedRbp] == Row::kUnsupported) {
    return rule;  // kStop; an undefined return address ends the stack too
  }
  rule.kind = row.cfa_register == kRsp ? FrameRule::kCfaFromRsp : FrameRule::kCfaFromRbp;
  rule.cfa_offset = static_cast<int32_t>(row.cfa_offset);
  rule.return_address_offset = static_cast<int32_t>(row.return_address_offset);
  rule.rbp_saved = row.saved[kSavedRbp] == Row::kAtCfaOffset;
  rule.rbp_offset = static_cast<int32_t>(row.saved_offset[kSavedRbp]);
  if (rule.cfa_offset != row.cfa_offset || rule.return_address_offset != row.return_address_offset ||
      rule.rbp_offset != row.saved_offset[kSavedRbp]) {
    return {};
  }
  return rule;
}

// Field layout of a packed rule: kind 2 bits, rbp_saved 1, cfa_offset 32,
// rbp_offset 16, return_address_offset 13 (all offsets signed).
constexpr int kRbpSavedShift = 2, kCfaShift = 3, kRbpShift = 35, kReturnShift = 51;

bool FitsSigned(int64_t value, int bits) {
  return value >= -(int64_t{1} << (bits - 1)) && value < (int64_t{1} << (bits - 1));
}

int64_t SignedField(uint64_t packed, int shift, int bits) {
  uint64_t field = (packed >> shift) & ((uint64_t{1} << bits) - 1);
  return static_cast<int64_t>(field << (64 - bits)) >> (64 - bits);
}

}  // namespace

uint64_t FrameRule::Pack() const {
  if (!FitsSigned(rbp_offset, 16) || !FitsSigned(return_address_offset, 13)) return kStop;
  return static_cast<uint64_t>(kind) | (uint64_t{rbp_saved} << kRbpSavedShift) |
         ((static_cast<uint64_t>(static_cast<uint32_t>(cfa_offset))) << kCfaShift) |
         ((static_cast<uint64_t>(rbp_offset) & 0xffff) << kRbpShift) |
         ((static_cast<uint64_t>(return_address_offset) & 0x1fff) << kReturnShift);
}

FrameRule FrameRule::Unpack(uint64_t packed) {
  FrameRule rule;
  rule.kind = static_cast<Kind>(packed & 3);
  rule.rbp_saved = ((packed >> kRbpSavedShift) & 1) != 0;
  rule.cfa_offset = static_cast<int32_t>(SignedField(packed, kCfaShift, 32));
  rule.rbp_offset = static_cast<int32_t>(SignedField(packed, kRbpShift, 16));
  rule.return_address_offset = static_cast<int32_t>(SignedField(packed, kReturnShift, 13));
  return rule;
}

namespace {

// The CFI row in effect at `pc` of `object`; false if none can be read.
bool FindRow(uintptr_t pc, const dl_find_object& object, Row* row) {
  if (object.dlfo_eh_frame == nullptr) return false;
  const auto* limit = static_cast<const uint8_t*>(object.dlfo_map_end);
  const auto* header = static_cast<const uint8_t*>(object.dlfo_eh_frame);
  const uint8_t* fde = FindFde(pc, header, limit);
  if (fde == nullptr || fde < static_cast<const uint8_t*>(object.dlfo_map_start) || fde >= limit) {
    return false;
  }
  Reader reader(fde, limit);
  const uint8_t* end = nullptr;
  if (!EntryBody(reader, limit, &end)) return false;
  const uint8_t* cie_pointer_field = reader.at();
  uint32_t cie_offset = reader.Fixed<uint32_t>();
  Cie cie;
  const uint8_t* cie_entry = cie_pointer_field - cie_offset;
  if (!reader.ok() || cie_offset == 0 ||
      cie_entry < static_cast<const uint8_t*>(object.dlfo_map_start) ||
      !ReadCie(cie_entry, limit, &cie)) {
    return false;
  }
  reader = Reader(reader.at(), end);
  uint64_t function_start = reader.Pointer(cie.fde_encoding, 0);
  uint64_t function_size = reader.Pointer(cie.fde_encoding & kFormatMask, 0);
  if (!reader.ok() || pc < function_start || pc - function_start >= function_size) return false;
  if (cie.has_augmentation_data) reader.Skip(reader.Uleb());
  if (!reader.ok()) return false;
  Row initial;
  if (!Execute(cie.instructions, cie.end, cie, 0, ~uint64_t{0}, Row{}, &initial)) return false;
  *row = initial;
  return Execute(reader.at(), end, cie, function_start, pc, initial, row);
}

}  // namespace

FrameRule FindFrameRule(uintptr_t pc, uintptr_t return_address) {
  dl_find_object object;
  if (_dl_find_object(reinterpret_cast<void*>(return_address), &object) != 0) return {};
  if (IsSigreturnTrampoline(return_address, object)) {
    FrameRule rule;
    rule.kind = FrameRule::kSignalFrame;
    return rule;
  }
  Row row;
  return FindRow(pc, object, &row) ? RuleFromRow(row) : FrameRule{};
}

CalleeSavedRule FindCalleeSavedRule(uintptr_t pc, uintptr_t return_address) {
  CalleeSavedRule rule;
  dl_find_object object;
  Row row;
  if (_dl_find_object(reinterpret_cast<void*>(return_address), &object) != 0 ||
      IsSigreturnTrampoline(return_address, object) || !FindRow(pc, object, &row)) {
    return rule;
  }
  rule.frame = RuleFromRow(row);
  for (int i = 0; i < kCalleeSavedCount; ++i) {
    if (row.saved[i] == Row::kUnsupported || row.saved[i] == Row::kUndefined) {
      rule.frame = FrameRule{};  // cannot say what the caller held
      return rule;
    }
    rule.saved[i] = row.saved[i] == Row::kAtCfaOffset;
    rule.saved_offset[i] = row.saved_offset[i];
  }
  return rule;
}

}  // namespace heapdrift::agent
