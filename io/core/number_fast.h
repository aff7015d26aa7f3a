/* The quick paths of io/core/number.c, shared with io/readers/table.c's row parser so
 * that they inline into its loop. Private to io/: callers outside use
 * io/core/number.h. Everything here returns 0 when unsure; the caller then
 * takes the exact general path of fidx_parse_float_prefix. */
#ifndef FIDX_IO_NUMBER_FAST_H
#define FIDX_IO_NUMBER_FAST_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Powers of ten that doubles hold exactly. */
static const double fidx_pow10_exact[23] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 10^-1 .. 10^-22, each rounded to the nearest double. */
static const double fidx_pow10_neg[23] = {
	1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,  1e-8,  1e-9,  1e-10, 1e-11,
	1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
};

/* Whether a double's bits sit within `near` units in the last place of a
 * point halfway between two floats (for doubles in float's normal range). */
static inline int fidx_near_float_midpoint(double d, uint64_t near)
{
	uint64_t bits, low;
	memcpy(&bits, &d, sizeof bits);
	low = bits & ((UINT64_C(1) << 29) - 1);
	return (low > (UINT64_C(1) << 28) ? low - (UINT64_C(1) << 28) : (UINT64_C(1) << 28) - low) <= near;
}

/* w * 10^exp10 as a float, exactly as strtof rounds it, when w < 2^53 and
 * |exp10| <= 22. Returns 0 when this quick way cannot be sure.
 *
 * Clinger: w and 10^e are exact doubles, so w * 10^e and w / 10^e are
 * correctly rounded doubles; rounding such a double to float again is
 * exact unless it sits exactly halfway between two floats (no float
 * midpoint can lie strictly between a value and its nearest double, since
 * midpoints are doubles themselves). A division costs about 20 cycles of
 * latency, so w * fl(10^-e) comes first: it is within 2 units in the last
 * place of the exact value, so its float rounding is the exact one unless
 * it lies within 2 units of a float midpoint; only then (about once in 10^8)
 * is the division done. */
static inline int fidx_clinger(uint64_t w, int exp10, int neg, float *out)
{
	double d = (double)w;
	float f;

	if (w > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return 0;
	if (exp10 >= 0) {
		d *= fidx_pow10_exact[exp10];
	} else {
		d *= fidx_pow10_neg[-exp10];
		if (fidx_near_float_midpoint(d, 4))
			d = (double)w / fidx_pow10_exact[-exp10];
	}
	/* Within float's normal range, and not a float midpoint. */
	if (!(d >= 0x1p-126 && d < 0x1p+128) || fidx_near_float_midpoint(d, 0))
		return 0;
	f = (float)d;
	if (isinf(f))
		return 0;
	*out = neg ? -f : f;
	return 1;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FIDX_HAVE_SSE41_PATH 1
/* The common case in 16 bytes at once: [-]digits[.digits], at most 15
 * digits, ended by a byte that cannot continue a number. Classifies the
 * bytes with compares, gathers the digits right-aligned without the dot
 * with one shuffle, and adds them up with three multiply-adds. Returns 0
 * (the caller then parses byte by byte) for anything else: exponents,
 * signs elsewhere, longer numbers, hex, nan, or no digits. s has 16
 * readable bytes. */
#define FIDX_SSE41_TARGET __attribute__((target("sse4.1,ssse3,popcnt")))
FIDX_SSE41_TARGET static inline int fidx_parse16(const char *s, float *out, size_t *used)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)s);
	const __m128i dig = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	const __m128i nine = _mm_set1_epi8(9);
	unsigned isdig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(dig, nine), nine));
	unsigned isdot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
	unsigned isminus = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
	unsigned other = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('e')), _mm_cmpeq_epi8(v, _mm_set1_epi8('E'))),
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
		             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('x')), _mm_cmpeq_epi8(v, _mm_set1_epi8('X'))))));
	unsigned term = ~(isdig | isdot | isminus | other) & 0xFFFF, len, in, start, body, k, nbefore;
	__m128i t, idx, dd, p;
	uint64_t w;
	int neg;

	if (!term)
		return 0;
	len = (unsigned)__builtin_ctz(term);
	in = (1u << len) - 1;
	neg = isminus & 1;
	start = (unsigned)neg;
	body = in & ~((1u << start) - 1);
	/* Everything after the sign is a digit or the one dot; nothing after
	 * the number looks like more of it ('x' of a hex float, an exponent). */
	if ((other & (in | (1u << len))) || ((isdig | (isdot & in)) & body) != body ||
	    __builtin_popcount(isdot & in) > 1)
		return 0;
	k = (unsigned)__builtin_popcount(isdig & in);
	if (k == 0 || k > 15)
		return 0;
	nbefore = (isdot & in) ? (unsigned)__builtin_ctz(isdot & in) - start : k;
	/* Digit i of k lands in lane 16 - k + i, read from s[start + i], or one
	 * further once past the dot; lanes before the first digit get zero. */
	t = _mm_sub_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
	                 _mm_set1_epi8((char)(16 - k)));
	idx = _mm_add_epi8(_mm_add_epi8(t, _mm_set1_epi8((char)start)),
	                   _mm_and_si128(_mm_cmpgt_epi8(t, _mm_set1_epi8((char)(nbefore - 1))), _mm_set1_epi8(1)));
	idx = _mm_or_si128(idx, _mm_andnot_si128(_mm_cmpgt_epi8(t, _mm_set1_epi8(-1)), _mm_set1_epi8((char)0x80)));
	dd = _mm_shuffle_epi8(dig, idx);
	p = _mm_maddubs_epi16(dd, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
	p = _mm_madd_epi16(p, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
	p = _mm_packus_epi32(p, p);
	p = _mm_madd_epi16(p, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
	w = (uint64_t)(uint32_t)_mm_cvtsi128_si32(p) * 100000000u +
	    (uint32_t)_mm_extract_epi32(p, 1);
	if (w == 0) {
		*out = neg ? -0.0f : 0.0f;
	} else if (!fidx_clinger(w, -(int)(k - nbefore), neg, out)) {
		return 0;
	}
	*used = len;
	return 1;
}

static inline int fidx_have_sse41(void)
{
	return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3") &&
	       __builtin_cpu_supports("popcnt");
}
#endif

#endif
