/* fidx's side of the benchmark (bench/run drives it).
 *
 *   fidx_bench make N DIM SEED OUT.npy            synthetic normalized rows
 *                                                 in clusters (n / 1000
 *                                                 centres, each row its
 *                                                 centre plus noise), as a
 *                                                 numpy .npy file
 *   fidx_bench queries NQ DIM SEED OUT.f32        normalized query vectors
 *   fidx_bench search INDEX QUERIES.f32 NQ K REPS median ms of one search
 *                                                 call of NQ queries
 *   fidx_bench floor INDEX REPS                   median ms of the bench's own
 *                                                 streaming dot product over
 *                                                 the matrix, all threads
 *   fidx_bench load INDEX REPS                    median ms to open, verify and
 *                                                 load an index
 *   fidx_bench csv ROWS.npy N DIM OUT.csv         the matrix as pandas'
 *                                                 to_csv(index=False) writes it
 *                                                 (header 0..D-1, shortest
 *                                                 round-trip floats)
 *   fidx_bench parse CSV REPS                     median seconds to read every
 *                                                 row of a CSV (the parser
 *                                                 alone, one thread)
 *
 * Results are one JSON object on stdout.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index.h"
#include "number.h"
#include "reader.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng_state;

static double gauss(void)
{
	/* Box-Muller over xorshift: deterministic for a seed. */
	double u1, u2;
	rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
	u1 = ((rng_state >> 11) + 1.0) / 9007199254740993.0;
	rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
	u2 = (rng_state >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

static void random_rows(float *x, size_t n, size_t d)
{
	size_t i, j;
	for (i = 0; i < n; i++) {
		double s = 0;
		for (j = 0; j < d; j++) {
			x[i * d + j] = (float)gauss();
			s += (double)x[i * d + j] * x[i * d + j];
		}
		for (j = 0; j < d; j++)
			x[i * d + j] = (float)(x[i * d + j] / sqrt(s));
	}
}

static void die(const char *what, const struct fidx_err *err)
{
	fprintf(stderr, "fidx_bench: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

/* n floats from a raw file, or from a .npy file after its header. */
static float *read_f32(const char *path, size_t n)
{
	FILE *f = fopen(path, "rb");
	float *x = malloc(n * sizeof *x);
	unsigned char head[10];
	if (!f || !x)
		die(path, NULL);
	if (fread(head, 1, 10, f) == 10 && memcmp(head, "\x93NUMPY", 6) == 0)
		fseek(f, 10 + head[8] + 256 * head[9], SEEK_SET);
	else
		rewind(f);
	if (fread(x, sizeof *x, n, f) != n)
		die(path, NULL);
	fclose(f);
	return x;
}

/* A .npy header for an n x d float32 array (version 1, padded to 128). */
static void npy_header(FILE *f, size_t n, size_t d)
{
	char h[128];
	int len = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", n, d);
	memset(h + len, ' ', sizeof h - 10 - (size_t)len);
	h[sizeof h - 10 - 1] = '\n';
	fwrite("\x93NUMPY\x01\x00", 1, 8, f);
	fputc((sizeof h - 10) & 0xff, f);
	fputc((sizeof h - 10) >> 8, f);
	fwrite(h, 1, sizeof h - 10, f);
}

static int cmd_make(char **argv)
{
	size_t n = strtoull(argv[0], NULL, 10), d = strtoull(argv[1], NULL, 10), i, j, chunk = 4096;
	size_t nc = n / 1000 ? n / 1000 : 1;
	float *x = malloc(chunk * d * sizeof *x), *c = malloc(nc * d * sizeof *c);
	FILE *out = fopen(argv[3], "wb");

	rng_state = strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
	if (!x || !c || !out)
		die(argv[3], NULL);
	for (i = 0; i < nc * d; i++)
		c[i] = (float)gauss();
	npy_header(out, n, d);
	for (i = 0; i < n; i += chunk) {
		size_t m = n - i < chunk ? n - i : chunk, r;
		for (r = 0; r < m; r++) {
			const float *centre = c + (size_t)(rng_state % nc) * d;
			double s = 0;
			for (j = 0; j < d; j++) {
				x[r * d + j] = centre[j] + 0.8f * (float)gauss();
				s += (double)x[r * d + j] * x[r * d + j];
			}
			for (j = 0; j < d; j++)
				x[r * d + j] = (float)(x[r * d + j] / sqrt(s));
		}
		if (fwrite(x, sizeof *x, m * d, out) != m * d)
			die(argv[3], NULL);
	}
	if (fclose(out))
		die(argv[3], NULL);
	free(x);
	free(c);
	printf("{\"rows\": %zu, \"dim\": %zu, \"clusters\": %zu}\n", n, d, nc);
	return 0;
}

static int cmd_queries(char **argv)
{
	size_t n = strtoull(argv[0], NULL, 10), d = strtoull(argv[1], NULL, 10);
	float *x = malloc(n * d * sizeof *x);
	FILE *f = fopen(argv[3], "wb");
	rng_state = strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ull + 7;
	random_rows(x, n, d);
	if (!f || fwrite(x, sizeof *x, n * d, f) != n * d || fclose(f))
		die(argv[3], NULL);
	free(x);
	return 0;
}

static struct fidx_index *load(const char *path, double *ms)
{
	struct fidx_index *ix;
	struct fidx_err err = {0};
	double t = now_ms();
	if (fidx_index_load(&ix, path, &err))
		die(path, &err);
	if (ms)
		*ms = now_ms() - t;
	return ix;
}

static int cmd_search(char **argv)
{
	struct fidx_index *ix = load(argv[0], NULL);
	size_t nq = strtoull(argv[2], NULL, 10), k = strtoull(argv[3], NULL, 10);
	int reps = atoi(argv[4]), r;
	size_t d = fidx_index_dim(ix);
	float *q = read_f32(argv[1], nq * d);
	struct fidx_hit *hits = malloc(nq * k * sizeof *hits);
	size_t *counts = malloc(nq * sizeof *counts);
	double *t = malloc((size_t)reps * sizeof *t), ms;
	struct fidx_err err = {0};

	for (r = -1; r < reps; r++) { /* one warm-up */
		double t0 = now_ms();
		if (fidx_index_search(ix, q, nq, k, hits, counts, &err))
			die("search", &err);
		if (r >= 0)
			t[r] = now_ms() - t0;
	}
	ms = median(t, reps);
	printf("{\"ms\": %.4f, \"nq\": %zu, \"k\": %zu, \"first\": %llu, \"first_score\": %.7f}\n", ms,
	       nq, k, (unsigned long long)hits[0].row, hits[0].score);
	fidx_index_free(ix);
	free(q);
	free(hits);
	free(counts);
	free(t);
	return 0;
}

/* The floor: every thread streams its share of the rows once, one dot
 * product per row, keeping only the best score. No top-k bookkeeping. */
static int cmd_floor(char **argv)
{
	struct fidx_index *ix = load(argv[0], NULL);
	int reps = atoi(argv[1]), r;
	size_t n = fidx_index_count(ix), d = fidx_index_dim(ix);
	const float *x = fidx_index_vector(ix, 0);
	float *q = malloc(d * sizeof *q);
	double *t = malloc((size_t)reps * sizeof *t);
	float best = 0;
	size_t j;

	for (j = 0; j < d; j++)
		q[j] = x[j];
	for (r = -1; r < reps; r++) {
		double t0 = now_ms();
		float top = -2;
#pragma omp parallel reduction(max : top)
		{
			int nt = omp_get_num_threads(), id = omp_get_thread_num();
			size_t lo = n * (size_t)id / (size_t)nt, hi = n * (size_t)(id + 1) / (size_t)nt, i, c;
			for (i = lo; i < hi; i++) {
				const float *row = x + i * d;
				float s = 0;
#pragma omp simd reduction(+ : s)
				for (c = 0; c < d; c++)
					s += row[c] * q[c];
				if (s > top)
					top = s;
			}
		}
		if (r >= 0)
			t[r] = now_ms() - t0;
		best = top;
	}
	printf("{\"ms\": %.4f, \"gbps\": %.2f, \"check\": %.4f, \"threads\": %d}\n", median(t, reps),
	       (double)n * d * 4 / 1e6 / median(t, reps), best, omp_get_max_threads());
	fidx_index_free(ix);
	free(q);
	free(t);
	return 0;
}

static int cmd_load(char **argv)
{
	int reps = atoi(argv[1]), r;
	double *t = malloc((size_t)reps * sizeof *t), ms;
	size_t n = 0, d = 0;
	for (r = 0; r < reps; r++) {
		struct fidx_index *ix = load(argv[0], &t[r]);
		n = fidx_index_count(ix);
		d = fidx_index_dim(ix);
		fidx_index_free(ix);
	}
	ms = median(t, reps);
	printf("{\"ms\": %.3f, \"gbps\": %.3f, \"raw_bytes\": %zu}\n", ms, (double)n * d * 4 / 1e6 / ms, n * d * 4);
	free(t);
	return 0;
}

static int cmd_csv(char **argv)
{
	size_t n = strtoull(argv[1], NULL, 10), d = strtoull(argv[2], NULL, 10), i, j;
	float *x = read_f32(argv[0], n * d);
	FILE *f = fopen(argv[3], "w");
	char num[24];
	if (!f)
		die(argv[3], NULL);
	for (j = 0; j < d; j++)
		fprintf(f, j ? ",%zu" : "%zu", j);
	fputc('\n', f);
	for (i = 0; i < n; i++) {
		for (j = 0; j < d; j++) {
			if (j)
				fputc(',', f);
			fidx_format_float(x[i * d + j], num);
			fputs(num, f);
		}
		fputc('\n', f);
	}
	if (fclose(f))
		die(argv[3], NULL);
	free(x);
	return 0;
}

static int cmd_parse(char **argv)
{
	int reps = atoi(argv[1]), r;
	double *t = malloc((size_t)reps * sizeof *t);
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	uint64_t rows = 0, bytes = 0;
	for (r = 0; r < reps; r++) {
		struct fidx_reader *tab;
		struct fidx_rows rows_;
		struct fidx_err err = {0};
		double t0 = now_ms(), sum = 0;
		int rc;
		rows = 0;
		if (fidx_reader_open(&tab, argv[0], &o, &err))
			die(argv[0], &err);
		while ((rc = fidx_reader_next(tab, &rows_, &err)) == 1) {
			sum += rows_.vec[0];
			rows += rows_.n;
		}
		if (rc < 0)
			die(argv[0], &err);
		{
			unsigned char d[32];
			if (fidx_source_digest(fidx_reader_source(tab), &bytes, d, &err))
				die(argv[0], &err);
		}
		fidx_reader_close(tab);
		t[r] = (now_ms() - t0) / 1e3;
		if (sum == 12345.678)
			printf(" ");
	}
	printf("{\"s\": %.4f, \"rows\": %llu, \"bytes\": %llu, \"mbps\": %.1f}\n", median(t, reps),
	       (unsigned long long)rows, (unsigned long long)bytes, bytes / 1e6 / median(t, reps));
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "make") == 0)
		return cmd_make(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "queries") == 0)
		return cmd_queries(argv + 2);
	if (argc >= 7 && strcmp(argv[1], "search") == 0)
		return cmd_search(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "floor") == 0)
		return cmd_floor(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "load") == 0)
		return cmd_load(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "csv") == 0)
		return cmd_csv(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "parse") == 0)
		return cmd_parse(argv + 2);
	fprintf(stderr, "usage: see bench/fidx_bench.c\n");
	return 2;
}
