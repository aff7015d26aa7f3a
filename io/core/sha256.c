#include "sha256.h"

#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_PATH 1
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (i = 0; i < 64; i++) {
		t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#ifdef HAVE_SHANI_PATH
/* The same compression with the x86 SHA extensions (about 8 times faster
 * here), for CPUs that have them. The state is kept as the two vectors the
 * instructions want: (a, b, e, f) and (c, d, g, h). */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t h[8], const unsigned char *p, size_t blocks)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i s0;

	t = _mm_shuffle_epi32(t, 0xB1);         /* c d a b */
	s1 = _mm_shuffle_epi32(s1, 0x1B);       /* h g f e */
	s0 = _mm_alignr_epi8(t, s1, 8);         /* a b e f */
	s1 = _mm_blend_epi16(s1, t, 0xF0);      /* c d g h */
	for (; blocks; blocks--, p += 64) {
		__m128i save0 = s0, save1 = s1, m[4], msg;
		int g;
		for (g = 0; g < 16; g++) {
			__m128i *w = &m[g & 3];
			if (g < 4)
				*w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
			else
				*w = _mm_sha256msg2_epu32(
					_mm_add_epi32(_mm_sha256msg1_epu32(*w, m[(g + 1) & 3]),
					              _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4)),
					m[(g + 3) & 3]);
			msg = _mm_add_epi32(*w, _mm_loadu_si128((const __m128i *)&K[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);        /* f e b a */
	s1 = _mm_shuffle_epi32(s1, 0xB1);       /* d c h g */
	s0 = _mm_blend_epi16(t, s1, 0xF0);      /* d c b a -> a b c d in memory */
	s1 = _mm_alignr_epi8(s1, t, 8);         /* h g f e -> e f g h in memory */
	_mm_storeu_si128((__m128i *)&h[0], s0);
	_mm_storeu_si128((__m128i *)&h[4], s1);
}

static int have_shani(void)
{
	static int known = -1;
	unsigned a, b, c, d;
	if (known < 0)
		known = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) &&
		        __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9));
	return known;
}
#endif

static void compress_blocks(uint32_t h[8], const unsigned char *p, size_t blocks)
{
#ifdef HAVE_SHANI_PATH
	if (have_shani()) {
		compress_shani(h, p, blocks);
		return;
	}
#endif
	for (; blocks; blocks--, p += 64)
		compress(h, p);
}

void fidx_sha256_init(struct fidx_sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(s->h, iv, sizeof iv);
	s->total = 0;
	s->fill = 0;
}

void fidx_sha256_update(struct fidx_sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	s->total += n;
	if (s->fill) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->block + s->fill, p, take);
		s->fill += take, p += take, n -= take;
		if (s->fill < 64)
			return;
		compress_blocks(s->h, s->block, 1);
		s->fill = 0;
	}
	compress_blocks(s->h, p, n / 64);
	p += n / 64 * 64;
	n %= 64;
	memcpy(s->block, p, n);
	s->fill = n;
}

void fidx_sha256_final(struct fidx_sha256 *s, unsigned char digest[32])
{
	uint64_t bits = s->total * 8;
	int i;

	s->block[s->fill++] = 0x80;
	if (s->fill > 56) {
		memset(s->block + s->fill, 0, 64 - s->fill);
		compress_blocks(s->h, s->block, 1);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, 56 - s->fill);
	for (i = 0; i < 8; i++)
		s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	compress_blocks(s->h, s->block, 1);
	for (i = 0; i < 8; i++) {
		digest[4 * i] = (unsigned char)(s->h[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		digest[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void fidx_sha256_hex(const unsigned char digest[32], char hex[65])
{
	static const char x[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = x[digest[i] >> 4];
		hex[2 * i + 1] = x[digest[i] & 15];
	}
	hex[64] = '\0';
}
