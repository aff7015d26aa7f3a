#include "crc32.h"

#include <libdeflate.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
/* The CRC of a message M (its first bit the highest power of x) is
 * M(x) x^32 mod P(x), P = x^32 + 0x04C11DB7's terms, taken after the
 * previous CRC (inverted) is added to its first 32 bits. Bits arrive least
 * significant first, so a 128-bit lane holds a polynomial of degree < 128
 * whose bit b is the coefficient of x^(127 - b), its low 64-bit half the
 * higher powers.
 *
 * Folding a lane C = H x^64 + L forward by D bits (to add it to the lane D
 * bits later) needs C x^D mod P = H (x^(64 + D) mod P) + L (x^D mod P), up
 * to a multiple of P. A carry-less product of a 64-bit half A (bit i the
 * coefficient of x^(63 - i)) by a constant w gives, as a lane, A K with
 * K = x * G when w's bit m is G's coefficient of x^(63 - m), for G of
 * degree < 32. So the constants are G = x^(64 + D - 1) mod P for the high
 * powers and x^(D - 1) mod P for the low ones, each bit-reversed into the
 * top half of a 64-bit word.
 *
 * After the last fold, one lane Z holds a polynomial congruent to the
 * whole message: its CRC, Z x^32 mod P, is what libdeflate computes for
 * Z's 16 bytes from a zero register, which is libdeflate_crc32(~0, Z). */

/* x^e mod P, bit k the coefficient of x^k. */
static uint32_t xpow_mod(unsigned e)
{
	uint64_t r = 1;
	while (e--) {
		r <<= 1;
		if (r >> 32)
			r ^= 0x104C11DB7ull;
	}
	return (uint32_t)r;
}

static uint64_t fold_word(unsigned e)
{
	uint32_t g = xpow_mod(e), rev = 0;
	int k;
	for (k = 0; k < 32; k++)
		rev |= ((g >> k) & 1u) << (31 - k);
	return (uint64_t)rev << 32;
}

/* Constants for folding by 2048 (the loop), 1536, 1024 and 512 bits
 * (zmm into zmm), then 384, 256 and 128 (lane into lane). */
struct folds {
	uint64_t hi[7], lo[7];
};

static const struct folds *fold_constants(void)
{
	static struct folds k;
	static int ready;
	static const unsigned dist[7] = {2048, 1536, 1024, 512, 384, 256, 128};
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		struct folds t;
		int i;
		for (i = 0; i < 7; i++) {
			t.hi[i] = fold_word(64 + dist[i] - 1);
			t.lo[i] = fold_word(dist[i] - 1);
		}
		/* Racing threads compute the same values. */
		memcpy(&k, &t, sizeof k);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return &k;
}

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,vpclmulqdq,pclmul")))

TARGET static __m512i fold512(__m512i x, __m512i k)
{
	return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}

TARGET static __m128i fold128(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* The CRC of n bytes (a multiple of 256, at least 256). */
TARGET static uint32_t crc_vpclmul(uint32_t crc, const unsigned char *p, size_t n)
{
	const struct folds *k = fold_constants();
	__m512i x0, x1, x2, x3, kk;
	__m128i z, l[4];
	unsigned char last[16];
	size_t i;
	int j;

	x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p), _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
	x1 = _mm512_loadu_si512((const void *)(p + 64));
	x2 = _mm512_loadu_si512((const void *)(p + 128));
	x3 = _mm512_loadu_si512((const void *)(p + 192));
	kk = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k->lo[0], (long long)k->hi[0]));
	for (i = 256; i < n; i += 256) {
		x0 = _mm512_xor_si512(fold512(x0, kk), _mm512_loadu_si512((const void *)(p + i)));
		x1 = _mm512_xor_si512(fold512(x1, kk), _mm512_loadu_si512((const void *)(p + i + 64)));
		x2 = _mm512_xor_si512(fold512(x2, kk), _mm512_loadu_si512((const void *)(p + i + 128)));
		x3 = _mm512_xor_si512(fold512(x3, kk), _mm512_loadu_si512((const void *)(p + i + 192)));
	}
	x3 = _mm512_xor_si512(x3, fold512(x0, _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k->lo[1],
	                                                                             (long long)k->hi[1]))));
	x3 = _mm512_xor_si512(x3, fold512(x1, _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k->lo[2],
	                                                                             (long long)k->hi[2]))));
	x3 = _mm512_xor_si512(x3, fold512(x2, _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k->lo[3],
	                                                                             (long long)k->hi[3]))));
	l[0] = _mm512_extracti32x4_epi32(x3, 0);
	l[1] = _mm512_extracti32x4_epi32(x3, 1);
	l[2] = _mm512_extracti32x4_epi32(x3, 2);
	l[3] = _mm512_extracti32x4_epi32(x3, 3);
	z = l[3];
	for (j = 0; j < 3; j++)
		z = _mm_xor_si128(z, fold128(l[j], _mm_set_epi64x((long long)k->lo[4 + j], (long long)k->hi[4 + j])));
	_mm_storeu_si128((__m128i *)last, z);
	return libdeflate_crc32(0xFFFFFFFFu, last, sizeof last);
}

static int have_vpclmul(void)
{
	static int have = -1;
	int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
	if (h < 0) {
		__builtin_cpu_init();
		h = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("vpclmulqdq");
		__atomic_store_n(&have, h, __ATOMIC_RELAXED);
	}
	return h;
}
#endif

const char *fidx_crc32_kernel(void)
{
#if defined(__x86_64__)
	if (have_vpclmul())
		return "vpclmulqdq";
#endif
	return "libdeflate";
}

uint32_t fidx_crc32(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	if (n >= 1024 && have_vpclmul()) {
		size_t body = n / 256 * 256;
		crc = crc_vpclmul(crc, p, body);
		return libdeflate_crc32(crc, (const unsigned char *)p + body, n - body);
	}
#endif
	return libdeflate_crc32(crc, p, n);
}
