// The Internet checksum (RFC 1071) for the offload byte work.
//
// Sums are taken over bytes in memory order as native-endian words; because the ones'
// complement sum is byte-order independent, a folded result stored back with memcpy lands in
// network order. So every input is a byte range in wire order (headers, pseudo-header fields
// built as bytes), never a host integer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ovnet {

// Adds the 16-bit words of p[0, n) to `acc`. A region summed into a running total must start
// at an even offset of the checksummed range; only the last region may have an odd length.
uint64_t CsumAdd(const uint8_t* p, size_t n, uint64_t acc);

// The ones' complement sum folded to 16 bits (0 only when everything summed was zero).
inline uint16_t CsumFold(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

inline void StoreCsum(uint8_t* at, uint16_t v) {
  std::memcpy(at, &v, 2);
}

inline uint16_t Be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline uint32_t Be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

inline void PutBe16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace ovnet
