/* 8-bit codes of a row, for a first pass of search that reads a quarter of
 * the bytes of the float32 rows and knows how wrong it can be.
 *
 * A row x of dim floats becomes a record of dim + 8 bytes: its scale
 * a = max |x_i| (float32), a bound rho on the residual (float32), then
 * dim signed codes c_i = round(127 x_i / a), so that x_i ~ a c_i / 127.
 * rho is at least the Euclidean norm of x - a c / 127 (computed in double,
 * with a margin), and that is the one thing search relies on.
 *
 * For a query q, the first pass computes, for every row, an exact integer
 * dot product of q rounded to 16-bit integers with the codes, and from it
 * a centre and a radius: the score fidx prints for that row (FAISS's
 * float32 inner product of q and x) lies within radius of centre. The
 * radius covers the codes' rounding (|q| rho), the query's rounding, and
 * the float32 rounding of the printed score itself (docs/FORMAT.md has the
 * proof). Rows whose interval cannot reach the k-th best are never among
 * the top k; the others are scored again from their float32 values.
 *
 * The integer dot product uses AVX-512BW, AVX2 or plain C, chosen at run
 * time; all three give the same integers, so nothing fidx prints depends
 * on the CPU. */
#ifndef FIDX_INDEX_QUANT_H
#define FIDX_INDEX_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one row's record. */
#define FIDX_QUANT_HEAD 8
static inline size_t fidx_quant_record(size_t dim) { return dim + FIDX_QUANT_HEAD; }

/* Writes the record of row x (dim floats) into rec. A row with a value
 * that is not finite gets an infinite bound (search always rescores it). */
void fidx_quant_encode(const float *x, size_t dim, unsigned char *rec);

/* Whether rec's bound holds for x: 0 if it does, -1 if not. */
int fidx_quant_check(const unsigned char *rec, const float *x, size_t dim);

/* The float (a * c_i) * fl(1/127) for each value: the prediction the
 * vectors' residual coding (docs/FORMAT.md, encoding 5) starts from.
 * Bit-exact on any IEEE 754 machine. */
void fidx_quant_predict(const unsigned char *rec, size_t dim, float *p);
/* Row x as residuals against its record's prediction (z: dim values), and
 * back (in place: residuals in, the floats' bits out). */
void fidx_quant_residuals(const unsigned char *rec, const float *x, size_t dim, uint32_t *z);
void fidx_quant_unresiduals(const unsigned char *rec, uint32_t *z, size_t dim);

/* A query prepared for the first pass. */
struct fidx_quant_query {
	int16_t *q;   /* dim values, rounded */
	double scale; /* dot / (127 * rounding factor): the centre is a * dot * scale */
	double k_rho; /* radius = k_rho * rho + k_a * a + k_0 */
	double k_a;
	double k_0;
};

/* Returns 0, or -1 when out of memory. */
int fidx_quant_query_init(struct fidx_quant_query *qq, const float *q, size_t dim);
void fidx_quant_query_free(struct fidx_quant_query *qq);

/* For n records at recs (one after the other), the lower and upper bounds
 * of each row's printed score: lo[i] <= score <= hi[i]. A record whose
 * scale or bound is not a finite non-negative number gets -inf and +inf. */
void fidx_quant_bounds(const struct fidx_quant_query *qq, const unsigned char *recs, size_t n,
                       size_t dim, double *lo, double *hi);

/* Which kernel the first pass uses: "avx512bw", "avx2" or "c". */
const char *fidx_quant_kernel(void);
/* Chooses one (the tests run them all), or "auto"; "c" also keeps the
 * encoding's per-value loops to plain C. -1 when this CPU cannot run it.
 * Not while other threads use this module. */
int fidx_quant_set_kernel(const char *name);

#endif
