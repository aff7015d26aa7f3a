/* CRC-32 (the gzip/zlib CRC, what libdeflate_crc32 computes), fast on
 * large buffers: with VPCLMULQDQ (AVX-512) it folds 256 bytes per step,
 * several times the speed of libdeflate's 128-bit folding on the CPUs
 * that have it; elsewhere, and for the last bytes, it is libdeflate's.
 * Same results either way: fidx_crc32(c, p, n) == libdeflate_crc32(c, p, n). */
#ifndef FIDX_INDEX_CRC32_H
#define FIDX_INDEX_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t fidx_crc32(uint32_t crc, const void *p, size_t n);
/* "vpclmulqdq" or "libdeflate". */
const char *fidx_crc32_kernel(void);

#endif
