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

/* Sum of the squared differences between x and a * c / 127, in double. */
static double residual2(const float *x, const signed char *c, size_t dim, float a)
{
	double sum = 0, s = (double)a / 127.0;
	size_t i;
	for (i = 0; i < dim; i++) {
		double e = (double)x[i] - s * (double)c[i];
		sum += e * e;
	}
	return sum;
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
	float a = 0, s;
	int finite = 1;
	size_t i;

	for (i = 0; i < dim; i++) {
		float v = fabsf(x[i]);
		finite &= v <= FLT_MAX;
		a = v > a ? v : a;
	}
	memset(c, 0, dim);
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
	s = 127.0f / a;
	for (i = 0; i < dim; i++) {
		float t = x[i] * s;
		int v = (int)(t + (t >= 0 ? 0.5f : -0.5f));
		c[i] = (signed char)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
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

void fidx_quant_predict(const unsigned char *rec, size_t dim, float *p)
{
	const signed char *c = (const signed char *)rec + FIDX_QUANT_HEAD;
	const float a = get_f32(rec), r = 1.0f / 127.0f;
	size_t i;
	/* Two roundings, in this order, on every machine. */
	for (i = 0; i < dim; i++)
		p[i] = (a * (float)c[i]) * r;
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
