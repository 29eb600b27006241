#include "csum.h"

namespace ovnet {

// An AVX2 copy where the CPU has it (ifunc, glibc on x86-64), for about 1.3x over SSE2.
#if defined(__x86_64__) && defined(__GLIBC__)
#define OVNET_CSUM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OVNET_CSUM_CLONES
#endif

// HOT PATH: 32-bit words into a 64-bit accumulator (no carry handling needed below 2^32
// words; a 32-bit word is two 16-bit words, since 2^16 == 1 modulo 0xffff). Written as a plain
// loop so that the compiler vectorises it: about 17 GB/s with SSE2, twice the unrolled form.
OVNET_CSUM_CLONES
uint64_t CsumAdd(const uint8_t* p, size_t n, uint64_t acc) {
  size_t words = n / 4;
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i++) {
    uint32_t w;
    std::memcpy(&w, p + 4 * i, 4);
    sum += w;
  }
  acc += sum;
  p += words * 4;
  n -= words * 4;
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The odd byte is the first byte of a word whose second byte is zero.
    uint8_t last[2] = {p[0], 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    acc += w;
  }
  return acc;
}

}  // namespace ovnet
