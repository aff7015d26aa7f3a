#include "quant.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FIDX_QUANT_X86 1
#endif

/* The residual bound is rounded up by this much (relative), and checked
 * against the same computation without it. */
#define RHO_MARGIN 0x1p-20
/* Double-precision sums of up to 2^20 terms are within this (relative) of
 * the real values they stand for (docs/FORMAT.md). */
#define SUM_MARGIN 0x1p-30

static void put_f32(unsigned char *p, float v) { memcpy(p, &v, 4); }
static float get_f32(const unsigned char *p)
{
	float v;
	memcpy(&v, p, 4);
	return v;
}

/* The per-value loops of encoding and checking, in plain C and with AVX2
 * (chosen at run time). Both compute the same bits: the same IEEE
 * operations, no fused multiply-adds, and sums kept in 8 lanes added in
 * one fixed order. */

/* Sum of the squared differences between x and a * c / 127, in double. */
static double residual2_c(const float *x, const signed char *c, size_t dim, float a)
{
	double acc[8] = {0}, s = (double)a / 127.0;
	size_t i;
	for (i = 0; i < dim; i++) {
		double e = (double)x[i] - s * (double)c[i];
		acc[i % 8] += e * e;
	}
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The largest |x_i|; *finite is 0 when a value is not finite. */
static float abs_max_c(const float *x, size_t dim, int *finite)
{
	float m = 0;
	int ok = 1;
	size_t i;
	for (i = 0; i < dim; i++) {
		float v = fabsf(x[i]);
		ok &= v <= FLT_MAX;
		m = v > m ? v : m;
	}
	*finite = ok;
	return m;
}

/* c_i = x_i s rounded to the nearest integer (ties to even), within
 * -127..127. */
static void to_codes_c(const float *x, size_t dim, float s, signed char *c)
{
	size_t i;
	for (i = 0; i < dim; i++) {
		float t = x[i] * s;
		t = t > 127 ? 127 : t < -127 ? -127 : t;
		c[i] = (signed char)lrintf(t);
	}
}

#ifdef FIDX_QUANT_X86
#define AVX2 __attribute__((target("avx2")))

AVX2 static double residual2_avx2(const float *x, const signed char *c, size_t dim, float a)
{
	double acc[8], s = (double)a / 127.0;
	__m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd(), vs = _mm256_set1_pd(s);
	size_t i, body = dim / 8 * 8;
	for (i = 0; i < body; i += 8) {
		__m256 xf = _mm256_loadu_ps(x + i);
		__m256i ci = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + i)));
		__m256d e0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(xf)),
		                           _mm256_mul_pd(vs, _mm256_cvtepi32_pd(_mm256_castsi256_si128(ci))));
		__m256d e1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(xf, 1)),
		                           _mm256_mul_pd(vs, _mm256_cvtepi32_pd(_mm256_extracti128_si256(ci, 1))));
		lo = _mm256_add_pd(lo, _mm256_mul_pd(e0, e0));
		hi = _mm256_add_pd(hi, _mm256_mul_pd(e1, e1));
	}
	_mm256_storeu_pd(acc, lo);
	_mm256_storeu_pd(acc + 4, hi);
	for (; i < dim; i++) {
		double e = (double)x[i] - s * (double)c[i];
		acc[i % 8] += e * e;
	}
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

AVX2 static float abs_max_avx2(const float *x, size_t dim, int *finite)
{
	__m256 m = _mm256_setzero_ps(), big = _mm256_set1_ps(FLT_MAX), bad = _mm256_setzero_ps();
	__m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	float t[8], r;
	size_t i, body = dim / 8 * 8;
	int ok;
	for (i = 0; i < body; i += 8) {
		__m256 v = _mm256_and_ps(_mm256_loadu_ps(x + i), mask);
		bad = _mm256_or_ps(bad, _mm256_cmp_ps(v, big, _CMP_NLE_UQ));
		m = _mm256_max_ps(v, m);
	}
	_mm256_storeu_ps(t, m);
	ok = _mm256_movemask_ps(bad) == 0;
	r = abs_max_c(x + i, dim - i, finite);
	*finite &= ok;
	for (i = 0; i < 8; i++)
		r = t[i] > r ? t[i] : r;
	return r;
}

AVX2 static void to_codes_avx2(const float *x, size_t dim, float s, signed char *c)
{
	__m256 vs = _mm256_set1_ps(s), top = _mm256_set1_ps(127), bottom = _mm256_set1_ps(-127);
	size_t i, body = dim / 16 * 16;
	for (i = 0; i < body; i += 16) {
		__m256 a = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs), b = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vs);
		__m256i ia = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(a, top), bottom));
		__m256i ib = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(b, top), bottom));
		__m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(ia, ib), 0xd8);
		__m128i bytes = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
		_mm_storeu_si128((__m128i *)(c + i), bytes);
	}
	to_codes_c(x + i, dim - i, s, c + i);
}
#endif

/* Whether the per-value loops use AVX2: -1 until known; 0 also when
 * fidx_quant_set_kernel("c") asks for plain C. */
static int use_avx2 = -1;

static int have_avx2(void)
{
#ifdef FIDX_QUANT_X86
	int h = __atomic_load_n(&use_avx2, __ATOMIC_RELAXED);
	if (h < 0) {
		__builtin_cpu_init();
		h = __builtin_cpu_supports("avx2");
		__atomic_store_n(&use_avx2, h, __ATOMIC_RELAXED);
	}
	return h;
#else
	return 0;
#endif
}

static double residual2(const float *x, const signed char *c, size_t dim, float a)
{
#ifdef FIDX_QUANT_X86
	if (have_avx2())
		return residual2_avx2(x, c, dim, a);
#endif
	return residual2_c(x, c, dim, a);
}

/* The smallest float >= v (v >= 0). */
static float float_up(double v)
{
	float f = (float)v;
	if ((double)f < v)
		f = nextafterf(f, INFINITY);
	return f;
}

void fidx_quant_encode(const float *x, size_t dim, unsigned char *rec)
{
	signed char *c = (signed char *)rec + FIDX_QUANT_HEAD;
	int finite, avx2 = have_avx2();
	float a;
#ifdef FIDX_QUANT_X86
	a = avx2 ? abs_max_avx2(x, dim, &finite) : abs_max_c(x, dim, &finite);
#else
	a = abs_max_c(x, dim, &finite);
#endif

	if (!finite || a == 0) {
		memset(c, 0, dim);
	}
	if (!finite) {
		/* Not finite: no bound; search scores the row exactly. */
		put_f32(rec, 0);
		put_f32(rec + 4, INFINITY);
		return;
	}
	put_f32(rec, a);
	if (a == 0) {
		put_f32(rec + 4, 0);
		return;
	}
#ifdef FIDX_QUANT_X86
	if (avx2)
		to_codes_avx2(x, dim, 127.0f / a, c);
	else
#endif
		to_codes_c(x, dim, 127.0f / a, c);
	put_f32(rec + 4, float_up(sqrt(residual2(x, c, dim, a)) * (1 + RHO_MARGIN)));
}

int fidx_quant_check(const unsigned char *rec, const float *x, size_t dim)
{
	float a = get_f32(rec), rho = get_f32(rec + 4);
	if (rho == INFINITY)
		return 0;
	if (!(a >= 0 && a <= FLT_MAX && rho >= 0))
		return -1;
	return (double)rho >= sqrt(residual2(x, (const signed char *)rec + FIDX_QUANT_HEAD, dim, a)) ? 0 : -1;
}

/* The prediction of a row's values from its record: (a * c_i) * fl(1/127),
 * two roundings in that order. */
static void predict_c(const unsigned char *rec, size_t dim, float *p)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	const float a = get_f32(rec), r = 1.0f / 127.0f;
	size_t i;
	for (i = 0; i < dim; i++)
		p[i] = (a * (float)c[i]) * r;
}

/* Order-preserving bits: a float's bits as a signed integer that sorts as
 * the floats do (its own inverse). */
static uint32_t order_key(uint32_t bits)
{
	return bits ^ ((0u - (bits >> 31)) >> 1);
}

/* Values [from, dim) of a row as residuals against its record's
 * prediction: the difference of the order-preserving bits, zigzagged. */
static void residuals_c(const unsigned char *rec, const float *x, size_t from, size_t dim, uint32_t *z)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	const float a = get_f32(rec), r = 1.0f / 127.0f;
	size_t i;
	for (i = from; i < dim; i++) {
		float p = (a * (float)c[i]) * r;
		uint32_t xb, pb, d;
		memcpy(&xb, x + i, 4);
		memcpy(&pb, &p, 4);
		d = order_key(xb) - order_key(pb);
		z[i] = d << 1 ^ (0u - (d >> 31));
	}
}

/* The inverse, in place: residuals [from, dim) back to the floats' bits. */
static void unresiduals_c(const unsigned char *rec, uint32_t *z, size_t from, size_t dim)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	const float a = get_f32(rec), r = 1.0f / 127.0f;
	size_t i;
	for (i = from; i < dim; i++) {
		float p = (a * (float)c[i]) * r;
		uint32_t pb;
		memcpy(&pb, &p, 4);
		z[i] = order_key(order_key(pb) + ((z[i] >> 1) ^ (0u - (z[i] & 1))));
	}
}

#ifdef FIDX_QUANT_X86
/* 8 predictions, as floats' bits, from codes at c. */
AVX2 static __m256i predict8(const signed char *c, __m256 a, __m256 r)
{
	__m256 cf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)c)));
	return _mm256_castps_si256(_mm256_mul_ps(_mm256_mul_ps(a, cf), r));
}

AVX2 static __m256i order_key8(__m256i b)
{
	return _mm256_xor_si256(b, _mm256_srli_epi32(_mm256_srai_epi32(b, 31), 1));
}

AVX2 static void residuals_avx2(const unsigned char *rec, const float *x, size_t dim, uint32_t *z)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	__m256 a = _mm256_set1_ps(get_f32(rec)), r = _mm256_set1_ps(1.0f / 127.0f);
	size_t i, body = dim / 8 * 8;
	for (i = 0; i < body; i += 8) {
		__m256i d = _mm256_sub_epi32(order_key8(_mm256_loadu_si256((const __m256i *)(x + i))),
		                             order_key8(predict8(c + i, a, r)));
		_mm256_storeu_si256((__m256i *)(z + i),
		                    _mm256_xor_si256(_mm256_slli_epi32(d, 1), _mm256_srai_epi32(d, 31)));
	}
	residuals_c(rec, x, i, dim, z);
}

AVX2 static void unresiduals_avx2(const unsigned char *rec, uint32_t *z, size_t dim)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	__m256 a = _mm256_set1_ps(get_f32(rec)), r = _mm256_set1_ps(1.0f / 127.0f);
	__m256i one = _mm256_set1_epi32(1);
	size_t i, body = dim / 8 * 8;
	for (i = 0; i < body; i += 8) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(z + i));
		__m256i d = _mm256_xor_si256(_mm256_srli_epi32(v, 1),
		                             _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, one)));
		_mm256_storeu_si256((__m256i *)(z + i),
		                    order_key8(_mm256_add_epi32(order_key8(predict8(c + i, a, r)), d)));
	}
	unresiduals_c(rec, z, i, dim);
}
#endif

void fidx_quant_predict(const unsigned char *rec, size_t dim, float *p)
{
	predict_c(rec, dim, p);
}

void fidx_quant_residuals(const unsigned char *rec, const float *x, size_t dim, uint32_t *z)
{
#ifdef FIDX_QUANT_X86
	if (have_avx2()) {
		residuals_avx2(rec, x, dim, z);
		return;
	}
#endif
	residuals_c(rec, x, 0, dim, z);
}

void fidx_quant_unresiduals(const unsigned char *rec, uint32_t *z, size_t dim)
{
#ifdef FIDX_QUANT_X86
	if (have_avx2()) {
		unresiduals_avx2(rec, z, dim);
		return;
	}
#endif
	unresiduals_c(rec, z, 0, dim);
}

/* ---------------------------------------------------------------- query */

int fidx_quant_query_init(struct fidx_quant_query *qq, const float *q, size_t dim)
{
	double n2 = 0, n1 = 0, mx = 0, e2 = 0, scale, qnorm, qerr, gamma, u = 0x1p-24;
	size_t i;

	memset(qq, 0, sizeof *qq);
	if (!(qq->q = calloc(dim ? dim : 1, sizeof *qq->q)))
		return -1;
	for (i = 0; i < dim; i++) {
		double v = fabs((double)q[i]);
		n2 += v * v;
		n1 += v;
		if (!(v <= mx))
			mx = v;
	}
	if (!(mx <= FLT_MAX) || !(n2 <= DBL_MAX)) {
		/* A query that is not finite: no bound, every row rescored. */
		qq->k_0 = INFINITY;
		qq->scale = 0;
		return 0;
	}
	if (mx == 0) {
		qq->scale = 0;
		return 0; /* every score is exactly 0, and so is every bound */
	}
	/* The rounding factor: 16-bit values, and an integer dot product that
	 * cannot overflow 32 bits with codes of magnitude up to 128. */
	scale = 32767 / mx;
	if (((2147483647.0 / 128 - (double)dim) / n1) * 0.999 < scale)
		scale = ((2147483647.0 / 128 - (double)dim) / n1) * 0.999;
	for (i = 0; i < dim; i++) {
		double r = nearbyint((double)q[i] * scale), e = (double)q[i] - r / scale;
		qq->q[i] = (int16_t)r;
		e2 += e * e;
	}
	qnorm = sqrt(n2) * (1 + SUM_MARGIN);
	qerr = sqrt(e2) * (1 + SUM_MARGIN);
	gamma = (double)dim * u / (1 - (double)dim * u);
	/* Products below float32's normal range round to an absolute error
	 * of at most 2^-150 each (sums of them are exact). */
	qq->k_0 = (double)dim * 0x1p-150 * (1 + gamma) * (1 + SUM_MARGIN);
	qq->scale = 1.0 / (127.0 * scale);
	/* radius = |q| rho' + |q - q~| nu + gamma |q| (nu + rho'), with
	 * rho' = rho (1 + 2^-50) + 2^-50 nu the true residual's bound and
	 * nu = a (128 / 127) sqrt(dim) a bound on the decoded row's norm. */
	qq->k_rho = qnorm * (1 + 0x1p-50) * (1 + gamma) * (1 + SUM_MARGIN);
	qq->k_a = (128.0 / 127.0) * sqrt((double)dim) * (qerr + qnorm * (0x1p-50 * (1 + gamma) + gamma)) *
	          (1 + SUM_MARGIN);
	return 0;
}

void fidx_quant_query_free(struct fidx_quant_query *qq)
{
	free(qq->q);
	qq->q = NULL;
}

/* ---------------------------------------------------------------- kernels */

typedef void dots_fn(const int16_t *q, const unsigned char *recs, size_t n, size_t dim, int32_t *out);

static int32_t dot_tail(const int16_t *q, const signed char *c, size_t from, size_t dim)
{
	int32_t s = 0;
	size_t i;
	for (i = from; i < dim; i++)
		s += (int32_t)q[i] * c[i];
	return s;
}

static void dots_c(const int16_t *q, const unsigned char *recs, size_t n, size_t dim, int32_t *out)
{
	size_t r, stride = fidx_quant_record(dim);
	for (r = 0; r < n; r++)
		out[r] = dot_tail(q, (const signed char *)recs + r * stride + FIDX_QUANT_HEAD, 0, dim);
}

#ifdef FIDX_QUANT_X86
__attribute__((target("avx2"))) static void dots_avx2(const int16_t *q, const unsigned char *recs, size_t n,
                                                      size_t dim, int32_t *out)
{
	size_t r, i, stride = fidx_quant_record(dim), body = dim / 16 * 16;
	for (r = 0; r < n; r++) {
		const signed char *c = (const signed char *)recs + r * stride + FIDX_QUANT_HEAD;
		__m256i acc = _mm256_setzero_si256();
		__m128i h;
		for (i = 0; i < body; i += 16) {
			__m256i cv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(c + i)));
			__m256i qv = _mm256_loadu_si256((const __m256i *)(q + i));
			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(cv, qv));
		}
		h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
		out[r] = _mm_cvtsi128_si32(h) + dot_tail(q, c, body, dim);
	}
}

__attribute__((target("avx512f,avx512bw"))) static void dots_avx512(const int16_t *q, const unsigned char *recs,
                                                                     size_t n, size_t dim, int32_t *out)
{
	size_t r, i, stride = fidx_quant_record(dim), body = dim / 32 * 32;
	for (r = 0; r < n; r++) {
		const signed char *c = (const signed char *)recs + r * stride + FIDX_QUANT_HEAD;
		__m512i acc = _mm512_setzero_si512();
		for (i = 0; i < body; i += 32) {
			__m512i cv = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(c + i)));
			__m512i qv = _mm512_loadu_si512((const void *)(q + i));
			acc = _mm512_add_epi32(acc, _mm512_madd_epi16(cv, qv));
		}
		out[r] = _mm512_reduce_add_epi32(acc) + dot_tail(q, c, body, dim);
	}
}
#endif

static dots_fn *pick(const char **name)
{
#ifdef FIDX_QUANT_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
		*name = "avx512bw";
		return dots_avx512;
	}
	if (__builtin_cpu_supports("avx2")) {
		*name = "avx2";
		return dots_avx2;
	}
#endif
	*name = "c";
	return dots_c;
}

/* The kernel, chosen once (or by fidx_quant_set_kernel). */
static dots_fn *chosen;
static const char *chosen_name;

static dots_fn *kernel(void)
{
	dots_fn *f = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
	if (!f) {
		const char *nm;
		f = pick(&nm);
		__atomic_store_n(&chosen_name, nm, __ATOMIC_RELAXED);
		__atomic_store_n(&chosen, f, __ATOMIC_RELEASE);
	}
	return f;
}

const char *fidx_quant_kernel(void)
{
	kernel();
	return __atomic_load_n(&chosen_name, __ATOMIC_RELAXED);
}

int fidx_quant_set_kernel(const char *name)
{
	dots_fn *f = NULL;
	if (strcmp(name, "c") == 0)
		f = dots_c;
#ifdef FIDX_QUANT_X86
	else if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2"))
		f = dots_avx2;
	else if (strcmp(name, "avx512bw") == 0 && __builtin_cpu_supports("avx512f") &&
	         __builtin_cpu_supports("avx512bw"))
		f = dots_avx512;
#endif
	else if (strcmp(name, "auto") == 0)
		f = pick(&name);
	if (!f)
		return -1;
	__atomic_store_n(&use_avx2, f == dots_c ? 0 : -1, __ATOMIC_RELAXED);
	__atomic_store_n(&chosen_name, name, __ATOMIC_RELAXED);
	__atomic_store_n(&chosen, f, __ATOMIC_RELEASE);
	return 0;
}

#define CHUNK 256

void fidx_quant_bounds(const struct fidx_quant_query *qq, const unsigned char *recs, size_t n,
                       size_t dim, double *lo, double *hi)
{
	size_t stride = fidx_quant_record(dim), done, j;
	dots_fn *dots = kernel();
	int32_t dot[CHUNK];

	for (done = 0; done < n; done += CHUNK) {
		size_t m = n - done < CHUNK ? n - done : CHUNK;
		const unsigned char *r = recs + done * stride;
		dots(qq->q, r, m, dim, dot);
		for (j = 0; j < m; j++, r += stride) {
			float a = get_f32(r), rho = get_f32(r + 4);
			double c, e, s;
			if (!(a >= 0 && a <= FLT_MAX && rho >= 0 && rho <= FLT_MAX)) {
				lo[done + j] = -INFINITY;
				hi[done + j] = INFINITY;
				continue;
			}
			c = (double)a * (double)dot[j] * qq->scale;
			e = qq->k_rho * rho + qq->k_a * a + qq->k_0;
			/* The double rounding of the lines above, with room to spare. */
			s = (fabs(c) + e) * 0x1p-45;
			lo[done + j] = c - e - s;
			hi[done + j] = c + e + s;
		}
	}
}
