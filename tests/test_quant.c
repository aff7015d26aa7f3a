/* index/quant.c's bound, and the two-pass search of index/index.c that
 * relies on it, against brute force computed here: the same rows and the
 * same score bits as a full scan, whatever the data (duplicates, ties at
 * the k-th place, queries that match nothing, k up to the whole index). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/utils/distances_c.h>

#include "builder.h"
#include "file.h"
#include "index.h"
#include "quant.h"
#include "vec.h"
#include "tmpdir.h"

static uint64_t rng = 88172645463325252ull;

static int setup(void **state)
{
	(void)state;
	return tmpdir_make("test-quant");
}

static double uniform(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static float gauss(void)
{
	return (float)(sqrt(-2 * log(uniform() + 1e-300)) * cos(6.283185307179586 * uniform()));
}

/* ---------------------------------------------------------------- bound */

/* lo <= FAISS's float32 inner product <= hi for every row and query,
 * normalized or not; every kernel gives the same bounds. */
static void check_bounds(const float *x, size_t n, const float *q, size_t nq, size_t d)
{
	size_t rec = fidx_quant_record(d), i, j;
	unsigned char *recs = malloc(n * rec);
	double *lo = malloc(n * sizeof *lo), *hi = malloc(n * sizeof *hi);
	double *lo2 = malloc(n * sizeof *lo2), *hi2 = malloc(n * sizeof *hi2);
	float *ip = malloc(n * sizeof *ip);
	const char *kernels[] = {"c", "avx2", "avx512bw"};

	for (i = 0; i < n; i++) {
		fidx_quant_encode(x + i * d, d, recs + i * rec);
		assert_int_equal(fidx_quant_check(recs + i * rec, x + i * d, d), 0);
	}
	for (j = 0; j < nq; j++) {
		struct fidx_quant_query qq;
		size_t k;
		assert_int_equal(fidx_quant_query_init(&qq, q + j * d, d), 0);
		fidx_quant_bounds(&qq, recs, n, d, lo, hi);
		faiss_fvec_inner_products_ny(ip, q + j * d, x, d, n);
		for (i = 0; i < n; i++) {
			if (!(lo[i] <= ip[i] && ip[i] <= hi[i]))
				print_error("d %zu row %zu query %zu: %.9g not in [%.9g, %.9g]\n", d, i, j, ip[i], lo[i],
				            hi[i]);
			assert_true(lo[i] <= ip[i] && ip[i] <= hi[i]);
		}
		/* Each kernel this CPU has gives the same bounds. */
		for (k = 0; k < 3; k++) {
			if (fidx_quant_set_kernel(kernels[k]))
				continue;
			fidx_quant_bounds(&qq, recs, n, d, lo2, hi2);
			assert_memory_equal(lo, lo2, n * sizeof *lo);
			assert_memory_equal(hi, hi2, n * sizeof *hi);
		}
		assert_int_equal(fidx_quant_set_kernel("auto"), 0);
		fidx_quant_query_free(&qq);
	}
	free(recs);
	free(lo);
	free(hi);
	free(lo2);
	free(hi2);
	free(ip);
}

static void test_bound_holds(void **state)
{
	static const size_t dims[] = {1, 2, 3, 7, 16, 17, 31, 32, 33, 64, 384, 1000};
	size_t t, i, j;
	(void)state;
	for (t = 0; t < sizeof dims / sizeof *dims; t++) {
		size_t d = dims[t], n = 300, nq = 12;
		float *x = malloc(n * d * sizeof *x), *q = malloc(nq * d * sizeof *q);
		for (i = 0; i < n * d; i++)
			x[i] = gauss();
		/* Rows of every shape: normalized, raw, one-hot, constant, zero,
		 * tiny, huge, with one large value among small ones. */
		for (i = 0; i < n; i += 2)
			fidx_vec_normalize(x + i * d, x + i * d, d);
		for (j = 0; j < d; j++) {
			x[1 * d + j] = j == 0;
			x[3 * d + j] = 0.5f;
			x[5 * d + j] = 0;
			x[7 * d + j] *= 1e-30f;
			x[9 * d + j] *= 1e30f;
			x[11 * d + j] = j == d / 2 ? 1.0f : x[11 * d + j] * 1e-4f;
		}
		for (i = 0; i < nq * d; i++)
			q[i] = gauss();
		for (i = 0; i < nq; i += 2)
			fidx_vec_normalize(q + i * d, q + i * d, d);
		for (j = 0; j < d; j++) {
			q[1 * d + j] = 0;
			q[3 * d + j] = j == d - 1;
			q[5 * d + j] = x[5 * d + j];
			q[7 * d + j] *= 1e-20f;
		}
		memcpy(q + 9 * d, x + 2 * d, d * sizeof *q); /* a stored row */
		check_bounds(x, n, q, nq, d);
		free(x);
		free(q);
	}
}

/* Plain C and the SIMD loops write the same records and residuals, and
 * residuals turn back into the same bits. */
static void test_kernels_agree(void **state)
{
	static const size_t dims[] = {1, 5, 8, 15, 16, 17, 33, 384};
	size_t t, i;
	(void)state;
	for (t = 0; t < sizeof dims / sizeof *dims; t++) {
		size_t d = dims[t], rec = fidx_quant_record(d);
		float *x = malloc(d * sizeof *x);
		unsigned char *r1 = malloc(rec), *r2 = malloc(rec);
		uint32_t *z1 = malloc(d * sizeof *z1), *z2 = malloc(d * sizeof *z2);
		int row;
		for (row = 0; row < 50; row++) {
			for (i = 0; i < d; i++)
				x[i] = row == 1 ? (float)i - 7.5f : row == 2 ? -0.0f : gauss() * (row % 7 ? 1.0f : 1e-20f);
			if (row > 2)
				fidx_vec_normalize(x, x, d);
			assert_int_equal(fidx_quant_set_kernel("c"), 0);
			fidx_quant_encode(x, d, r1);
			fidx_quant_residuals(r1, x, d, z1);
			assert_int_equal(fidx_quant_set_kernel("auto"), 0);
			fidx_quant_encode(x, d, r2);
			fidx_quant_residuals(r2, x, d, z2);
			assert_memory_equal(r1, r2, rec);
			assert_memory_equal(z1, z2, d * sizeof *z1);
			fidx_quant_unresiduals(r2, z2, d);
			assert_memory_equal(z2, x, d * sizeof *x);
			assert_int_equal(fidx_quant_set_kernel("c"), 0);
			fidx_quant_unresiduals(r1, z1, d);
			assert_memory_equal(z1, x, d * sizeof *x);
			assert_int_equal(fidx_quant_set_kernel("auto"), 0);
		}
		free(x);
		free(r1);
		free(r2);
		free(z1);
		free(z2);
	}
}

static void test_record(void **state)
{
	float x[5] = {0.5f, -0.25f, 0.125f, 0, -0.5f}, bad[3] = {1, NAN, 0};
	unsigned char rec[5 + FIDX_QUANT_HEAD], r3[3 + FIDX_QUANT_HEAD];
	float rho, a;
	double lo, hi;
	struct fidx_quant_query qq;
	(void)state;
	fidx_quant_encode(x, 5, rec);
	memcpy(&a, rec, 4);
	memcpy(&rho, rec + 4, 4);
	assert_true(a == 0.5f);
	assert_int_equal((signed char)rec[8], 127);
	assert_int_equal((signed char)rec[9], -64);
	assert_int_equal((signed char)rec[12], -127);
	assert_int_equal(fidx_quant_check(rec, x, 5), 0);
	/* A bound smaller than the residual is caught. */
	x[1] = -0.26f;
	assert_int_equal(fidx_quant_check(rec, x, 5), -1);
	/* A row that is not finite: no bound, every query rescores it. */
	fidx_quant_encode(bad, 3, r3);
	assert_int_equal(fidx_quant_check(r3, bad, 3), 0);
	assert_int_equal(fidx_quant_query_init(&qq, x, 3), 0);
	fidx_quant_bounds(&qq, r3, 1, 3, &lo, &hi);
	assert_true(lo == -INFINITY && hi == INFINITY);
	fidx_quant_query_free(&qq);
}

/* ---------------------------------------------------------------- search */

struct hit {
	uint64_t row;
	float score;
};

static int by_score_row(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->row > b->row) - (a->row < b->row);
}

/* Writes rows (normalized by the builder) in blocks of 7 rows. */
static void build(const char *path, const float *x, size_t n, size_t d)
{
	struct fidx_builder_opts o = {.out = path, .level = 3};
	struct fidx_builder *b;
	struct fidx_err err = {0};
	size_t i;
	setenv("FIDX_TEST_BLOCK_ROWS", "7", 1);
	assert_int_equal(fidx_builder_open(&b, &o, &err), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(fidx_builder_add(b, x + i * d, d, NULL, 0, NULL, 0, "mem", i + 1, &err), 0);
	if (fidx_builder_commit(b, &err)) {
		print_error("%s\n", err.msg);
		fail();
	}
	unsetenv("FIDX_TEST_BLOCK_ROWS");
}

/* Every query of q (nq of them, at once) with every k of ks against brute
 * force: FAISS's kernel over the rows as stored (normalized here the way
 * the builder does), ranked by score, then row. The two-pass search, the
 * exact scan of every block and a search of the rows loaded in memory all
 * give those rows and those score bits; and the scores are within 1e-5 of
 * the cosine in double. Returns the blocks the two passes scored again. */
static uint64_t check_search(const char *path, const float *x, size_t n, size_t d, const float *q, size_t nq,
                             const size_t *ks, size_t nk)
{
	struct fidx_index *lazy, *eager;
	struct fidx_err err = {0};
	float *stored = malloc(n * d * sizeof *stored), *ip = malloc(n * sizeof *ip);
	struct hit *want = malloc(n * sizeof *want);
	size_t kmax = 0, t, i, j, p;
	struct fidx_hit *got;
	size_t *counts = malloc(nq * sizeof *counts);
	uint64_t rescored = 0;

	for (t = 0; t < nk; t++)
		kmax = ks[t] > kmax ? ks[t] : kmax;
	got = malloc(nq * kmax * sizeof *got);
	for (i = 0; i < n; i++)
		assert_int_equal(fidx_vec_normalize(x + i * d, stored + i * d, d), 0);
	assert_int_equal(fidx_index_open(&lazy, path, &err), 0);
	assert_int_equal(fidx_index_load(&eager, path, &err), 0);
	for (t = 0; t < nk; t++) {
		size_t k = ks[t], m = k < n ? k : n;
		for (p = 0; p < 3; p++) {
			uint64_t before = fidx_index_stats(lazy)->blocks_rescored;
			if (p == 1)
				setenv("FIDX_TEST_SEARCH", "full", 1);
			if (fidx_index_search(p == 2 ? eager : lazy, q, nq, k, got, counts, &err)) {
				print_error("%s\n", err.msg);
				fail();
			}
			unsetenv("FIDX_TEST_SEARCH");
			if (p == 0)
				rescored += fidx_index_stats(lazy)->blocks_rescored - before;
			for (j = 0; j < nq; j++) {
				double qn = 0;
				faiss_fvec_inner_products_ny(ip, q + j * d, stored, d, n);
				for (i = 0; i < n; i++) {
					want[i].row = i;
					want[i].score = ip[i];
				}
				qsort(want, n, sizeof *want, by_score_row);
				assert_int_equal(counts[j], m);
				for (i = 0; i < d; i++)
					qn += (double)q[j * d + i] * q[j * d + i];
				for (i = 0; i < m; i++) {
					const struct fidx_hit *h = got + j * k + i;
					double cos = 0;
					size_t c;
					if (h->row != want[i].row || memcmp(&h->score, &want[i].score, sizeof h->score))
						print_error("path %zu, k %zu, query %zu, hit %zu: row %llu score %.9g, want row %llu "
						            "score %.9g\n",
						            p, k, j, i, (unsigned long long)h->row, h->score,
						            (unsigned long long)want[i].row, want[i].score);
					assert_int_equal(h->row, want[i].row);
					assert_memory_equal(&h->score, &want[i].score, sizeof h->score);
					for (c = 0; c < d; c++)
						cos += (double)q[j * d + c] * stored[h->row * d + c];
					assert_true(fabs(cos / sqrt(qn) - h->score) < 1e-5);
				}
			}
		}
	}
	/* Rows read back from their blocks are the stored rows. */
	for (i = 0; i < n; i += n / 5 + 1) {
		assert_int_equal(fidx_index_row(lazy, i, ip, &err), 0);
		assert_memory_equal(ip, stored + i * d, d * sizeof *ip);
	}
	fidx_index_free(lazy);
	fidx_index_free(eager);
	free(stored);
	free(ip);
	free(want);
	free(got);
	free(counts);
	return rescored;
}

/* Rows in clusters, with duplicates and rows far from everything. */
static void test_search_clusters(void **state)
{
	size_t n = 2000, d = 32, nq = 6, i, j, nblocks = (n + 6) / 7;
	size_t ks[] = {1, 3, 10, 100, 1999, 2000, 2005};
	float *x = malloc(n * d * sizeof *x), *c = malloc(20 * d * sizeof *c), q[6 * 32];
	char path[128];
	uint64_t rescored;
	(void)state;
	for (i = 0; i < 20 * d; i++)
		c[i] = gauss();
	for (i = 0; i < n; i++)
		for (j = 0; j < d; j++)
			x[i * d + j] = c[(i % 20) * d + j] + 0.5f * gauss();
	for (i = 0; i < 6; i++)
		memcpy(x + (300 + 250 * i) * d, x + 5 * d, d * sizeof *x);
	for (i = 0; i < nq * d; i++)
		q[i] = gauss();
	for (j = 0; j < d; j++) {
		q[0 * d + j] = x[5 * d + j];                 /* a row with 7 copies: ties */
		q[1 * d + j] = x[77 * d + j] + 0.1f * gauss(); /* near a row */
		q[2 * d + j] = -x[12 * d + j];               /* opposite a row */
	}
	for (i = 0; i < nq; i++)
		fidx_vec_normalize(q + i * d, q + i * d, d);
	snprintf(path, sizeof path, "%s/clusters.fidx", dir);
	build(path, x, n, d);
	check_search(path, x, n, d, q, nq, ks, sizeof ks / sizeof *ks);
	/* A query near a row: the first pass leaves most blocks out. */
	{
		size_t k5[] = {5};
		rescored = check_search(path, x, n, d, q + d, 1, k5, 1);
		print_message("k = 5 near a row: %llu of %zu blocks scored again\n", (unsigned long long)rescored,
		              nblocks);
		assert_true(rescored < nblocks / 4);
	}
	free(x);
	free(c);
}

/* Ties everywhere: a query orthogonal to every row (all scores exactly 0),
 * and an index of one row repeated (every row ties, every block needed). */
static void test_search_ties(void **state)
{
	size_t n = 300, d = 16, i, j;
	size_t ks[] = {1, 5, 8, 150, 299, 300, 400};
	float *x = malloc(n * d * sizeof *x), q[2 * 16];
	char path[128];
	(void)state;
	/* Rows on the first 8 dimensions; query 0 on the last 8. */
	for (i = 0; i < n; i++)
		for (j = 0; j < d; j++)
			x[i * d + j] = j < 8 ? gauss() : 0;
	for (j = 0; j < d; j++) {
		q[j] = j < 8 ? 0 : gauss();
		q[d + j] = gauss();
	}
	fidx_vec_normalize(q, q, d);
	fidx_vec_normalize(q + d, q + d, d);
	snprintf(path, sizeof path, "%s/orthogonal.fidx", dir);
	build(path, x, n, d);
	check_search(path, x, n, d, q, 2, ks, sizeof ks / sizeof *ks);

	for (i = 1; i < n; i++)
		memcpy(x + i * d, x, d * sizeof *x);
	snprintf(path, sizeof path, "%s/same.fidx", dir);
	build(path, x, n, d);
	check_search(path, x, n, d, q + d, 1, ks, sizeof ks / sizeof *ks);
	free(x);
}

/* A cluster of 40 equal rows scattered among weaker ones: the k-th place
 * falls inside the ties for k = 10, 39; k = 45 needs the next ones. */
static void test_search_kth_ties(void **state)
{
	size_t n = 500, d = 8, i, j;
	size_t ks[] = {10, 39, 40, 41, 45};
	float *x = malloc(n * d * sizeof *x), q[8];
	char path[128];
	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < d; j++)
			x[i * d + j] = gauss();
	for (j = 0; j < d; j++)
		q[j] = (float)(j + 1);
	for (i = 0; i < 40; i++)
		memcpy(x + (i * 12 + 3) * d, q, sizeof q);
	fidx_vec_normalize(q, q, d);
	snprintf(path, sizeof path, "%s/kth.fidx", dir);
	build(path, x, n, d);
	check_search(path, x, n, d, q, 1, ks, sizeof ks / sizeof *ks);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),          cmocka_unit_test(test_kernels_agree),
		cmocka_unit_test(test_bound_holds),
		cmocka_unit_test(test_search_clusters), cmocka_unit_test(test_search_ties),
		cmocka_unit_test(test_search_kth_ties),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
