/* index/: building, loading, searching and merging, checked against a
 * brute-force cosine computed here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "index.h"
#include "merge.h"
#include "search.h"
#include "tmpdir.h"

#define DIM 24
#define N 500

static float data[N][DIM];

static int setup(void **state)
{
	uint64_t x = 12345;
	size_t i, j;
	(void)state;
	for (i = 0; i < N; i++)
		for (j = 0; j < DIM; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			data[i][j] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
		}
	/* Exact duplicates make ties. */
	memcpy(data[7], data[3], sizeof data[3]);
	memcpy(data[400], data[3], sizeof data[3]);
	return tmpdir_make("test-index");
}

/* Ids and texts are bytes with a length, not C strings. */
static void assert_bytes(const char *p, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void path_of(char *out, const char *name)
{
	sprintf(out, "%s/%s", dir, name);
}

/* Builds rows [lo, hi) with ids "s<i>" (or implicit) and texts. */
static void build(const char *path, size_t lo, size_t hi, int string_ids)
{
	static const struct fidx_params hash_id = {1, {"model"}, {"fidx-hash-v1"}};
	struct fidx_builder_opts o = {.out = path, .embedder = "hash", .identity = &hash_id, .level = 6};
	struct fidx_builder *b;
	struct fidx_err err = {0};
	size_t i;
	char id[32], text[32];
	assert_int_equal(fidx_builder_open(&b, &o, &err), 0);
	for (i = lo; i < hi; i++) {
		snprintf(id, sizeof id, "s%zu", i);
		snprintf(text, sizeof text, "row %zu", i);
		assert_int_equal(fidx_builder_add(b, data[i], DIM, string_ids ? id : NULL, strlen(id), text,
		                                  strlen(text), "mem", i + 1, &err), 0);
	}
	if (fidx_builder_commit(b, &err)) {
		print_error("%s\n", err.msg);
		fail();
	}
}

/* Brute force in double over the normalized rows [0, n). */
static void brute(const float *q, size_t n, double *score)
{
	size_t i, j;
	double qn = 0;
	for (j = 0; j < DIM; j++)
		qn += (double)q[j] * q[j];
	for (i = 0; i < n; i++) {
		double s = 0, rn = 0;
		for (j = 0; j < DIM; j++) {
			s += (double)q[j] * data[i][j];
			rn += (double)data[i][j] * data[i][j];
		}
		score[i] = s / sqrt(qn * rn);
	}
}

static void normalize(const float *in, float *out)
{
	double s = 0;
	size_t j;
	for (j = 0; j < DIM; j++)
		s += (double)in[j] * in[j];
	for (j = 0; j < DIM; j++)
		out[j] = (float)(in[j] / sqrt(s));
}

/* How far a float32 score of unit vectors of dimension d may be from the
 * exact cosine: d roundings of at most 2^-24 of a sum bounded by 1
 * (index.h), and 2^-24 more for each vector's rounding to float32 after
 * normalization. Not a CPU's rounding: a bound that holds on all. */
static double tolerance(size_t d)
{
	return (double)(d + 2) * 0x1p-24;
}

/* Checks hits against brute force: same scores within the tolerance, ids
 * in score order with ties by id, and no better row left out. */
static void check_hits(const struct fidx_collection *c, const struct fidx_result *r, size_t m,
                       const double *score, size_t n, size_t k, size_t d)
{
	size_t i, better = 0;
	double tol = tolerance(d);
	assert_int_equal(m, k < n ? k : n);
	for (i = 0; i < m; i++) {
		int64_t id = fidx_collection_id_int(c, r[i].index, r[i].row);
		assert_true(id >= 0 && (size_t)id < n);
		if (!(fabs(score[id] - r[i].score) <= tol))
			print_error("hit %zu: id %lld score %.9g, brute %.9g\n", i, (long long)id, r[i].score, score[id]);
		assert_true(fabs(score[id] - r[i].score) <= tol);
		if (i) {
			int64_t prev = fidx_collection_id_int(c, r[i - 1].index, r[i - 1].row);
			assert_true(r[i - 1].score > r[i].score || (r[i - 1].score == r[i].score && prev < id));
		}
	}
	/* Nothing outside the top m scores clearly better than the m-th. */
	for (i = 0; i < n; i++)
		if (score[i] > r[m - 1].score + tol)
			better++;
	assert_true(better < m);
}

/* Two answers to the same query from one collection agree up to ties:
 * the r-th scores within tol, a row both have scored within tol, and a row
 * only one has no more than tol above the other's last hit. */
static void assert_same_up_to_ties(const struct fidx_result *a, const struct fidx_result *b, size_t m,
                                   double tol)
{
	size_t i, j;
	for (i = 0; i < m; i++) {
		const struct fidx_result *x = &a[i];
		int found = 0;
		assert_true(fabs(a[i].score - b[i].score) <= tol);
		for (j = 0; j < m; j++)
			if (b[j].index == x->index && b[j].row == x->row) {
				assert_true(fabs(b[j].score - x->score) <= tol);
				found = 1;
			}
		if (!found)
			assert_true(x->score <= b[m - 1].score + tol);
	}
}

/* Which way fidx searches (index.h); NULL for the default. */
static void set_path(const char *path)
{
	if (path)
		setenv("FIDX_TEST_SEARCH", path, 1);
	else
		unsetenv("FIDX_TEST_SEARCH");
}

static void search_check(struct fidx_collection *c, size_t n, size_t k)
{
	struct fidx_err err = {0};
	struct fidx_result *res = malloc(k * sizeof *res);
	double score[N];
	float q[DIM];
	size_t t, m;
	for (t = 0; t < 20; t++) {
		size_t row = (t * 37) % n;
		normalize(data[row], q);
		brute(data[row], n, score);
		assert_int_equal(fidx_collection_search(c, q, 1, k, -2.0f, res, &m, &err), 0);
		check_hits(c, res, m, score, n, k, DIM);
	}
	free(res);
}

static void test_build_load_search(void **state)
{
	char path[128];
	const char *paths[1] = {path};
	struct fidx_collection *c;
	struct fidx_err err = {0};
	struct fidx_result res[N];
	size_t m, len;
	float q[DIM];
	uint64_t row;
	const char *p;
	(void)state;
	path_of(path, "all.fidx");
	build(path, 0, N, 0);
	assert_int_equal(fidx_collection_open(&c, paths, 1, 0, &err), 0);
	search_check(c, N, 5);
	search_check(c, N, 50);
	/* Ties: rows 3, 7 and 400 are the same vector; ids ascending. */
	normalize(data[3], q);
	assert_int_equal(fidx_collection_search(c, q, 1, 3, -2.0f, res, &m, &err), 0);
	assert_int_equal(m, 3);
	assert_int_equal(res[0].row, 3);
	assert_int_equal(res[1].row, 7);
	assert_int_equal(res[2].row, 400);
	/* k larger than the collection returns all of it. */
	assert_int_equal(fidx_collection_search(c, q, 1, N, -2.0f, res, &m, &err), 0);
	assert_int_equal(m, N);
	/* min score */
	assert_int_equal(fidx_collection_search(c, q, 1, N, 0.999f, res, &m, &err), 0);
	assert_int_equal(m, 3);
	/* texts and lookups */
	row = 42;
	assert_int_equal(fidx_index_fetch(fidx_collection_index(c, 0), &row, 1, &err), 0);
	p = fidx_index_text(fidx_collection_index(c, 0), 42, &len);
	assert_bytes(p, len, "row 42");
	assert_int_equal(fidx_index_find(fidx_collection_index(c, 0), "42", 2, &row, &err), 1);
	assert_int_equal(row, 42);
	assert_int_equal(fidx_index_find(fidx_collection_index(c, 0), "500", 3, &row, &err), 0);
	fidx_collection_free(c);
}

static void test_string_ids(void **state)
{
	char path[128];
	const char *paths[1] = {path};
	struct fidx_collection *c;
	struct fidx_err err = {0};
	struct fidx_result res[4];
	size_t m, len, index;
	uint64_t row;
	float q[DIM];
	char buf[24];
	const char *p;
	(void)state;
	path_of(path, "str.fidx");
	build(path, 0, 100, 1);
	assert_int_equal(fidx_collection_open(&c, paths, 1, 0, &err), 0);
	assert_int_equal(fidx_collection_id_kind(c), FIDX_IDS_STRING);
	assert_int_equal(fidx_collection_find(c, "s57", 3, &index, &row, &err), 1);
	assert_int_equal(row, 57);
	normalize(data[57], q);
	assert_int_equal(fidx_collection_search(c, q, 1, 4, -2.0f, res, &m, &err), 0);
	p = fidx_collection_id(c, 0, res[0].row, buf, &len);
	assert_bytes(p, len, "s57");
	/* ties by id as strings: "s3" < "s7" */
	normalize(data[3], q);
	assert_int_equal(fidx_collection_search(c, q, 1, 2, -2.0f, res, &m, &err), 0);
	assert_int_equal(res[0].row, 3);
	assert_int_equal(res[1].row, 7);
	fidx_collection_free(c);
}

static void test_duplicate_and_zero_rows(void **state)
{
	char path[128];
	struct fidx_builder_opts o = {.out = path, .level = 6};
	struct fidx_builder *b;
	struct fidx_err err = {0};
	float zero[DIM] = {0};
	(void)state;
	path_of(path, "dup.fidx");
	assert_int_equal(fidx_builder_open(&b, &o, &err), 0);
	assert_int_equal(fidx_builder_add(b, data[0], DIM, "a", 1, NULL, 0, "in.csv", 2, &err), 0);
	assert_int_equal(fidx_builder_add(b, data[1], DIM, "a", 1, NULL, 0, "in.csv", 3, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "in.csv:3: duplicate id \"a\" (first seen at in.csv:2)");
	assert_int_equal(fidx_builder_add(b, zero, DIM, "b", 1, NULL, 0, "in.csv", 4, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "in.csv:4: the vector is all zeros and cannot be normalized");
	assert_int_equal(fidx_builder_add(b, data[1], DIM - 1, "c", 1, NULL, 0, "in.csv", 5, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "in.csv:5: the row has 23 dimensions, earlier rows have 24");
	assert_int_equal(fidx_builder_add(b, data[1], DIM, NULL, 0, NULL, 0, "in.csv", 6, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "in.csv:6: the row has no id, earlier rows have ids");
	fidx_builder_abort(b);
	assert_int_equal(fidx_builder_open(&b, &o, &err), 0);
	assert_int_equal(fidx_builder_commit(b, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "no rows to index");
}

/* Merging the indexes of two halves equals indexing the whole; several
 * indexes searched as one give the same answers. */
static void test_merge_halves(void **state)
{
	char a[128], b2[128], whole[128], merged[128];
	const char *in[2] = {a, b2};
	struct fidx_merge_opts mo = {merged, in, 2, 0, 6, 0, {NULL, NULL}};
	struct fidx_merge_stats st;
	struct fidx_collection *cw, *cm, *cs;
	struct fidx_err err = {0};
	struct fidx_result rw[10], rm[10], rs[10];
	size_t t, mw, mm, ms, i;
	float q[DIM];
	(void)state;
	path_of(a, "half-a.fidx");
	path_of(b2, "half-b.fidx");
	path_of(whole, "whole.fidx");
	path_of(merged, "merged.fidx");
	build(a, 0, 230, 0);
	build(b2, 230, N, 0);
	build(whole, 0, N, 0);
	assert_int_equal(fidx_merge(&mo, &st, &err), 0);
	assert_int_equal(st.rows, N);
	{
		const char *p1[1] = {whole}, *p2[1] = {merged};
		assert_int_equal(fidx_collection_open(&cw, p1, 1, 0, &err), 0);
		assert_int_equal(fidx_collection_open(&cm, p2, 1, 0, &err), 0);
		assert_int_equal(fidx_collection_open(&cs, in, 2, 0, &err), 0);
	}
	for (t = 0; t < N; t++) {
		float vw[DIM], vm[DIM];
		assert_int_equal(fidx_index_row(fidx_collection_index(cw, 0), t, vw, &err), 0);
		assert_int_equal(fidx_index_row(fidx_collection_index(cm, 0), t, vm, &err), 0);
		assert_memory_equal(vw, vm, sizeof vw);
	}
	/* The whole and the merged index hold the same bits, so they answer
	 * alike either way. The scan gives a row's score the same bits in the
	 * two halves searched as one; BLAS agrees within the bound, up to
	 * ties (its sgemm may round a row differently in another matrix). */
	for (t = 0; t < 60; t++) {
		set_path(t < 30 ? "scan" : "blas");
		normalize(data[(t * 53) % N], q);
		assert_int_equal(fidx_collection_search(cw, q, 1, 10, -2.0f, rw, &mw, &err), 0);
		assert_int_equal(fidx_collection_search(cm, q, 1, 10, -2.0f, rm, &mm, &err), 0);
		assert_int_equal(fidx_collection_search(cs, q, 1, 10, -2.0f, rs, &ms, &err), 0);
		assert_int_equal(mw, mm);
		assert_int_equal(mw, ms);
		for (i = 0; i < mw; i++) {
			assert_int_equal(fidx_collection_id_int(cw, 0, rw[i].row), fidx_collection_id_int(cm, 0, rm[i].row));
			assert_true(rw[i].score == rm[i].score);
			if (t < 30) {
				assert_int_equal(fidx_collection_id_int(cw, 0, rw[i].row),
				                 fidx_collection_id_int(cs, rs[i].index, rs[i].row));
				assert_true(rw[i].score == rs[i].score);
			}
		}
		if (t >= 30) {
			/* as one index's rows: the halves' implicit ids are renumbered */
			for (i = 0; i < ms; i++) {
				rs[i].row = (uint64_t)fidx_collection_id_int(cs, rs[i].index, rs[i].row);
				rs[i].index = 0;
			}
			assert_same_up_to_ties(rw, rs, mw, 2 * tolerance(DIM));
		}
	}
	set_path(NULL);
	fidx_collection_free(cw);
	fidx_collection_free(cm);
	fidx_collection_free(cs);
}

static void test_merge_ids(void **state)
{
	char a[128], b2[128], out[128];
	const char *in[2] = {a, b2};
	struct fidx_merge_opts mo = {out, in, 2, 0, 6, 0, {NULL, NULL}};
	struct fidx_merge_stats st;
	struct fidx_collection *c;
	struct fidx_err err = {0};
	size_t index, len;
	uint64_t row;
	const char *p;
	(void)state;
	path_of(a, "ids-a.fidx");
	path_of(b2, "ids-b.fidx");
	path_of(out, "ids-out.fidx");
	build(a, 0, 100, 1);
	build(b2, 50, 150, 1);
	assert_int_equal(fidx_merge(&mo, &st, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "id \"s50\" is in both"));
	assert_int_equal(fidx_collection_open(&c, in, 2, 0, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "id \"s50\" is in both"));
	assert_int_equal(fidx_collection_open(&c, in, 2, 1, &err), 0);
	fidx_collection_free(c);
	mo.dedupe = 1;
	assert_int_equal(fidx_merge(&mo, &st, &err), 0);
	assert_int_equal(st.rows, 150);
	assert_int_equal(st.replaced, 50);
	{
		const char *paths[1] = {out};
		assert_int_equal(fidx_collection_open(&c, paths, 1, 0, &err), 0);
	}
	/* s60 is the later copy: it sits after a's surviving rows 0..49. */
	assert_int_equal(fidx_collection_find(c, "s60", 3, &index, &row, &err), 1);
	assert_int_equal(row, 60);
	assert_int_equal(fidx_index_fetch(fidx_collection_index(c, 0), &row, 1, &err), 0);
	p = fidx_index_text(fidx_collection_index(c, 0), 60, &len);
	assert_bytes(p, len, "row 60");
	assert_int_equal(fidx_collection_find(c, "s0", 2, &index, &row, &err), 1);
	assert_int_equal(row, 0);
	fidx_collection_free(c);
}

/* A larger matrix exercises the paths small ones skip: the scan split
 * across threads (with ties across the split), several queries per scan,
 * and batches answered by FAISS IndexFlatIP shards (made small here). */
#define BIG_N 6000
#define BIG_D 384

static void test_search_paths(void **state)
{
	char path[128];
	const char *paths[1] = {path};
	float *x = malloc((size_t)BIG_N * BIG_D * sizeof *x), *q = malloc(40 * BIG_D * sizeof *q);
	double *score = malloc(BIG_N * sizeof *score);
	struct fidx_builder_opts o = {.out = path, .level = 6};
	struct fidx_builder *b;
	struct fidx_collection *c;
	struct fidx_err err = {0};
	struct fidx_result *res = malloc(40 * 10 * sizeof *res), before[5 * 10], again[5 * 10];
	size_t counts[40], i, j, t, nq, copies[5] = {10, BIG_N / 2 - 2, BIG_N / 2, BIG_N / 2 + 2, BIG_N / 2 + 4};
	int threads = omp_get_max_threads();
	uint64_t s = 99;
	(void)state;
	for (i = 0; i < (size_t)BIG_N * BIG_D; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
	}
	/* Ties on both sides of the middle, where the threads' ranges meet. */
	for (i = 0; i < 4; i++)
		memcpy(x + (BIG_N / 2 - 2 + i * 2) * BIG_D, x + 10 * BIG_D, BIG_D * sizeof *x);
	path_of(path, "big.fidx");
	assert_int_equal(fidx_builder_open(&b, &o, &err), 0);
	for (i = 0; i < BIG_N; i++)
		assert_int_equal(fidx_builder_add(b, x + i * BIG_D, BIG_D, NULL, 0, NULL, 0, "mem", i + 1, &err), 0);
	assert_int_equal(fidx_builder_commit(b, &err), 0);
	for (t = 0; t < 40; t++) {
		double n2 = 0;
		/* Query 0 is row 10 itself, which hits the ties. */
		const float *src = x + (t ? (t * 131) % BIG_N : 10) * BIG_D;
		for (j = 0; j < BIG_D; j++)
			q[t * BIG_D + j] = src[j] + (t ? (float)((int)(t % 7) - 3) * 0.01f : 0.0f);
		for (j = 0; j < BIG_D; j++)
			n2 += (double)q[t * BIG_D + j] * q[t * BIG_D + j];
		for (j = 0; j < BIG_D; j++)
			q[t * BIG_D + j] = (float)(q[t * BIG_D + j] / sqrt(n2));
	}
	setenv("FIDX_TEST_SHARD_BYTES", "1000000", 1);
	assert_int_equal(fidx_collection_open(&c, paths, 1, 0, &err), 0);
	/* 1 query, 5 queries (scans), then 40 (shards), twice (shards kept). */
	for (nq = 1; nq <= 40; nq = nq == 1 ? 5 : nq == 5 ? 40 : 41) {
		assert_int_equal(fidx_collection_search(c, q, nq, 10, -2.0f, res, counts, &err), 0);
		for (t = 0; t < nq; t++) {
			double qn = 0;
			for (j = 0; j < BIG_D; j++)
				qn += (double)q[t * BIG_D + j] * q[t * BIG_D + j];
			for (i = 0; i < BIG_N; i++) {
				double dot = 0, rn = 0;
				for (j = 0; j < BIG_D; j++) {
					dot += (double)q[t * BIG_D + j] * x[i * BIG_D + j];
					rn += (double)x[i * BIG_D + j] * x[i * BIG_D + j];
				}
				score[i] = dot / sqrt(qn * rn);
			}
			check_hits(c, res + t * 10, counts[t], score, BIG_N, 10, BIG_D);
		}
		/* The five copies of row 10 come first: scanned, with the same
		 * score, so in id order; BLAS's sgemm may round the same row
		 * differently where it falls elsewhere in its blocks. */
		assert_true(counts[0] == 10);
		for (i = 0; i < 5; i++) {
			int seen = 0;
			for (j = 0; j < 5; j++)
				seen += res[j].row == copies[i];
			assert_int_equal(seen, 1);
			if (nq < 20)
				assert_true(res[i].row == copies[i] && res[i].score == res[0].score);
			else
				assert_true(fabs(res[i].score - res[0].score) <= 2 * tolerance(BIG_D));
		}
		if (nq == 5)
			memcpy(before, res, sizeof before);
	}
	/* With the rows in shards now, a scan gives the same bits as before
	 * they moved, whatever the number of threads; BLAS agrees within the
	 * bound, up to ties. */
	set_path("scan");
	for (t = 1; t <= 3; t += 2) {
		omp_set_num_threads((int)t);
		assert_int_equal(fidx_collection_search(c, q, 5, 10, -2.0f, again, counts, &err), 0);
		for (i = 0; i < 5 * 10; i++)
			assert_true(again[i].row == before[i].row && again[i].score == before[i].score);
	}
	omp_set_num_threads(threads);
	set_path("blas");
	assert_int_equal(fidx_collection_search(c, q, 5, 10, -2.0f, again, counts, &err), 0);
	for (t = 0; t < 5; t++)
		assert_same_up_to_ties(before + t * 10, again + t * 10, 10, 2 * tolerance(BIG_D));
	set_path(NULL);
	/* Stored vectors read back from the shards as they were normalized. */
	for (t = 0; t < BIG_N; t += BIG_N / 7) {
		float want[BIG_D], got[BIG_D];
		double n2 = 0;
		for (j = 0; j < BIG_D; j++)
			n2 += (double)x[t * BIG_D + j] * x[t * BIG_D + j];
		for (j = 0; j < BIG_D; j++)
			want[j] = (float)((double)x[t * BIG_D + j] / sqrt(n2));
		assert_int_equal(fidx_index_row(fidx_collection_index(c, 0), t, got, &err), 0);
		assert_memory_equal(got, want, sizeof want);
	}
	unsetenv("FIDX_TEST_SHARD_BYTES");
	fidx_collection_free(c);
	free(x);
	free(q);
	free(score);
	free(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_load_search), cmocka_unit_test(test_string_ids),
		cmocka_unit_test(test_duplicate_and_zero_rows), cmocka_unit_test(test_merge_halves),
		cmocka_unit_test(test_merge_ids), cmocka_unit_test(test_search_paths),
	};
	/* Each test says which way it searches (FIDX_TEST_SEARCH), if any. */
	unsetenv("FIDX_TEST_SEARCH");
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
