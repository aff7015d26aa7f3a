#include "index.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/faiss_c.h>
#include <faiss/c_api/utils/distances_c.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "file.h"
#include "idset.h"
#include "number.h"

struct records {
	char *blob;
	uint64_t *off; /* of each record's length prefix */
};

/* How the vectors are held and searched.
 *
 * Loading decodes the file on all threads straight into one buffer of
 * fidx's (transparent huge pages, so that filling it costs few page
 * faults). A few queries are answered from it with FAISS's inner-product
 * kernel (fvec_inner_products_ny) on every thread, each over its own range
 * of rows, keeping a top-k heap per thread; the heaps are then merged.
 *
 * A batch of queries is answered by FAISS IndexFlatIP with BLAS. The first
 * batch moves the rows into IndexFlatIP shards (an eighth of the rows each,
 * from 16 to 256 MB), releasing the buffer's pages shard by shard, so that
 * memory grows by one shard at most; later scans read the shards.
 *
 * The two ways round differently (index.h says how much). The scan's
 * kernel is FAISS's, compiled into fidx: a row's score is the same bits
 * whichever thread, block, shard or index holds the row. BLAS's sgemm
 * kernel is chosen by OpenBLAS at run time for the CPU it runs on. */
struct shard {
	FaissIndex *faiss;
	float *xb;   /* owned by faiss */
	uint64_t lo; /* first row */
	uint64_t n;
};

struct fidx_index {
	char *path;
	struct fidx_meta meta;
	float *x;          /* the rows, until they move into shards */
	size_t x_len;      /* of the mapping */
	struct shard *shards;
	size_t nshards;
	struct records ids, texts;
	int64_t *int_ids;
	struct fidx_idset *lookup; /* built on first find */
};

static int faiss_error(struct fidx_err *err, const char *what)
{
	const char *m = faiss_get_last_error();
	return fidx_err_set(err, FIDX_EINTERNAL, "faiss: %s: %s", what, m ? m : "failed");
}

static uint32_t le32(const char *p)
{
	const unsigned char *b = (const unsigned char *)p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Reads a section of n length-prefixed records and checks that they fill
 * it exactly. */
static int load_records(struct fidx_file *f, int type, uint64_t n, struct records *r,
                        struct fidx_err *err)
{
	size_t len, pos = 0;
	uint64_t i;
	int rc = fidx_file_read_section(f, type, SIZE_MAX - 1, &r->blob, &len, err);
	if (rc)
		return rc;
	if (n + 1 > SIZE_MAX / sizeof *r->off || !(r->off = malloc((size_t)(n + 1) * sizeof *r->off)))
		return fidx_err_nomem(err);
	for (i = 0; i < n; i++) {
		uint32_t l;
		if (len - pos < 4)
			break;
		l = le32(r->blob + pos);
		if (l > len - pos - 4)
			break;
		r->off[i] = pos;
		pos += 4 + (size_t)l;
	}
	if (i < n || pos != len)
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: %s records do not match the count",
		                    fidx_file_name(f), type == FIDX_SEC_IDS ? "id" : "text");
	r->off[n] = pos;
	return 0;
}

static const char *record(const struct records *r, uint64_t row, size_t *len)
{
	*len = le32(r->blob + r->off[row]);
	return r->blob + r->off[row] + 4;
}

/* A buffer for the rows, asking for transparent huge pages. */
static float *map_rows(size_t bytes, size_t *len)
{
	void *p;
	*len = bytes ? bytes : 1;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, *len, MADV_HUGEPAGE);
#endif
	return p;
}

#define SHARD_BYTES (256u << 20)
#define SHARD_MIN_BYTES (16u << 20)
/* Below this many queries, FAISS itself scans row by row (one thread per
 * query); from it on it multiplies matrices with BLAS. fidx follows. */
#define FAISS_BLAS_QUERIES 20

enum search_path { PATH_SCAN, PATH_BLAS };

/* The way a search of nq queries goes: by nq, unless FIDX_TEST_SEARCH is
 * "scan" or "blas" (*forced is then set), so that tests can run the same
 * queries both ways and compare. It is honoured in every build, not only
 * with FIDX_TEST_HOOKS: either way is exact search, so forcing one cannot
 * give a wrong answer, only a slower one, and the suite's comparisons then
 * hold whatever the build. */
static int search_path(size_t nq, enum search_path *path, int *forced, struct fidx_err *err)
{
	const char *f = getenv("FIDX_TEST_SEARCH");
	*forced = f && *f;
	*path = nq >= FAISS_BLAS_QUERIES ? PATH_BLAS : PATH_SCAN;
	if (*forced && strcmp(f, "scan") == 0)
		*path = PATH_SCAN;
	else if (*forced && strcmp(f, "blas") == 0)
		*path = PATH_BLAS;
	else if (*forced)
		return fidx_err_set(err, FIDX_EINPUT, "FIDX_TEST_SEARCH must be \"scan\" or \"blas\", not \"%s\"", f);
	return 0;
}

/* Moves the rows into FAISS IndexFlatIP shards. FIDX_TEST_SHARD_BYTES
 * makes shards smaller, so that tests can cover the merging of several. */
static int make_shards(struct fidx_index *ix, struct fidx_err *err)
{
	uint64_t n = ix->meta.count, d = ix->meta.dim, bytes = n * d * 4, i, shard = SHARD_BYTES;
	const char *test = getenv("FIDX_TEST_SHARD_BYTES");
	size_t want;

	/* An eighth of the rows, between 16 and 256 MB: moving the rows costs
	 * at most one shard of extra memory. */
	if (bytes / 8 < shard)
		shard = bytes / 8 > SHARD_MIN_BYTES ? bytes / 8 : SHARD_MIN_BYTES;
	if (test && strtoull(test, NULL, 10) > 0)
		shard = strtoull(test, NULL, 10);
	want = (size_t)(bytes / shard) + 1;
	long page = 4096;

	ix->shards = calloc(want, sizeof *ix->shards);
	if (!ix->shards)
		return fidx_err_nomem(err);
	for (i = 0; i < want; i++) {
		struct shard *sh = &ix->shards[i];
		FaissIndexFlatIP *ip = NULL;
		uint64_t lo = n * i / want, hi = n * (i + 1) / want;
		size_t size = 0;
		if (faiss_IndexFlatIP_new_with(&ip, (idx_t)d))
			return faiss_error(err, "cannot create an IndexFlatIP");
		sh->faiss = (FaissIndex *)ip;
		sh->lo = lo;
		sh->n = hi - lo;
		ix->nshards = i + 1;
		if (sh->n && faiss_Index_add(sh->faiss, (idx_t)sh->n, ix->x + lo * d))
			return faiss_error(err, "cannot add the vectors");
		faiss_IndexFlat_xb(faiss_IndexFlat_cast(sh->faiss), &sh->xb, &size);
		if (size != sh->n * d)
			return fidx_err_set(err, FIDX_EINTERNAL, "faiss: unexpected IndexFlat storage");
		/* Give back the pages just copied (whole pages only). */
		{
			uintptr_t from = ((uintptr_t)(ix->x + lo * d) + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
			uintptr_t to = (uintptr_t)(ix->x + hi * d) & ~(uintptr_t)(page - 1);
			if (i + 1 == want)
				to = ((uintptr_t)ix->x + ix->x_len) & ~(uintptr_t)(page - 1);
			if (to > from)
				madvise((void *)from, to - from, MADV_DONTNEED);
		}
	}
	munmap(ix->x, ix->x_len);
	ix->x = NULL;
	return 0;
}

int fidx_index_load(struct fidx_index **out, const char *path, struct fidx_err *err)
{
	struct fidx_index *ix;
	struct fidx_file *f = NULL;
	uint64_t n, i;
	int rc;

	*out = NULL;
	ix = calloc(1, sizeof *ix);
	if (!ix || !(ix->path = strdup(path))) {
		free(ix);
		return fidx_err_nomem(err);
	}
	if ((rc = fidx_file_open(&f, path, err)) != 0)
		goto fail;
	n = fidx_file_count(f);
	if ((rc = fidx_meta_read(f, &ix->meta, err)) != 0)
		goto fail;
	if (ix->meta.id_kind != FIDX_IDS_IMPLICIT &&
	    (rc = load_records(f, FIDX_SEC_IDS, n, &ix->ids, err)) != 0)
		goto fail;
	if (ix->meta.id_kind == FIDX_IDS_INT) {
		if (!(ix->int_ids = malloc((size_t)n * sizeof *ix->int_ids + 1))) {
			rc = fidx_err_nomem(err);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			size_t len;
			const char *p = record(&ix->ids, i, &len);
			if (!fidx_parse_canonical_i64(p, len, &ix->int_ids[i])) {
				rc = fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: an integer id is not an integer", path);
				goto fail;
			}
		}
	}
	if (ix->meta.has_texts && (rc = load_records(f, FIDX_SEC_TEXTS, n, &ix->texts, err)) != 0)
		goto fail;
	if (!(ix->x = map_rows((size_t)(n * ix->meta.dim * 4), &ix->x_len))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	if (n && (rc = fidx_file_read_vectors(f, ix->x, err)) != 0)
		goto fail;
	fidx_file_close(f);
	*out = ix;
	return 0;
fail:
	fidx_file_close(f);
	fidx_index_free(ix);
	return rc;
}

void fidx_index_free(struct fidx_index *ix)
{
	if (!ix)
		return;
	if (ix->x)
		munmap(ix->x, ix->x_len);
	if (ix->shards) {
		size_t i;
		for (i = 0; i < ix->nshards; i++)
			if (ix->shards[i].faiss)
				faiss_Index_free(ix->shards[i].faiss);
		free(ix->shards);
	}
	fidx_meta_free(&ix->meta);
	free(ix->ids.blob);
	free(ix->ids.off);
	free(ix->texts.blob);
	free(ix->texts.off);
	free(ix->int_ids);
	fidx_idset_free(ix->lookup);
	free(ix->path);
	free(ix);
}

const char *fidx_index_path(const struct fidx_index *ix) { return ix->path; }
const struct fidx_meta *fidx_index_meta(const struct fidx_index *ix) { return &ix->meta; }
uint64_t fidx_index_count(const struct fidx_index *ix) { return ix->meta.count; }
uint32_t fidx_index_dim(const struct fidx_index *ix) { return ix->meta.dim; }

/* The rows from row on that lie together in memory: at most *n, and *n is
 * lowered to the end of row's shard. */
static const float *rows_at(const struct fidx_index *ix, uint64_t row, size_t *n)
{
	size_t i = ix->nshards - 1;
	if (ix->x)
		return ix->x + row * ix->meta.dim;
	while (i > 0 && row < ix->shards[i].lo)
		i--;
	if (ix->shards[i].lo + ix->shards[i].n - row < *n)
		*n = (size_t)(ix->shards[i].lo + ix->shards[i].n - row);
	return ix->shards[i].xb + (row - ix->shards[i].lo) * ix->meta.dim;
}

const float *fidx_index_vector(const struct fidx_index *ix, uint64_t row)
{
	size_t one = 1;
	return rows_at(ix, row, &one);
}

const char *fidx_index_id(const struct fidx_index *ix, uint64_t row, char buf[24], size_t *len)
{
	if (ix->meta.id_kind == FIDX_IDS_IMPLICIT) {
		*len = (size_t)snprintf(buf, 24, "%llu", (unsigned long long)row);
		return buf;
	}
	return record(&ix->ids, row, len);
}

int64_t fidx_index_id_int(const struct fidx_index *ix, uint64_t row)
{
	return ix->int_ids ? ix->int_ids[row] : (int64_t)row;
}

const char *fidx_index_text(const struct fidx_index *ix, uint64_t row, size_t *len)
{
	if (!ix->meta.has_texts) {
		*len = 0;
		return NULL;
	}
	return record(&ix->texts, row, len);
}

int fidx_index_find(struct fidx_index *ix, const char *id, size_t len, uint64_t *row,
                    struct fidx_err *err)
{
	uint64_t i;
	if (ix->meta.id_kind == FIDX_IDS_IMPLICIT) {
		int64_t v;
		if (!fidx_parse_canonical_i64(id, len, &v) || v < 0 || (uint64_t)v >= ix->meta.count)
			return 0;
		*row = (uint64_t)v;
		return 1;
	}
	if (!ix->lookup) {
		if (!(ix->lookup = fidx_idset_new()))
			return fidx_err_nomem(err);
		for (i = 0; i < ix->meta.count; i++) {
			size_t l;
			const char *p = record(&ix->ids, i, &l);
			if (fidx_idset_put(ix->lookup, p, l, i, 0, NULL) < 0)
				return fidx_err_nomem(err);
		}
	}
	return fidx_idset_get(ix->lookup, id, len, row);
}

int fidx_index_id_cmp(const struct fidx_index *ix, uint64_t a, uint64_t b)
{
	if (ix->meta.id_kind == FIDX_IDS_STRING) {
		size_t la, lb;
		const char *pa = record(&ix->ids, a, &la), *pb = record(&ix->ids, b, &lb);
		int c = memcmp(pa, pb, la < lb ? la : lb);
		return c ? c : (la > lb) - (la < lb);
	}
	return (fidx_index_id_int(ix, a) > fidx_index_id_int(ix, b)) -
	       (fidx_index_id_int(ix, a) < fidx_index_id_int(ix, b));
}

static int hit_order(const void *pa, const void *pb, void *ctx)
{
	const struct fidx_hit *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return fidx_index_id_cmp(ctx, a->row, b->row);
}

static int by_score_row(const void *pa, const void *pb)
{
	const struct fidx_hit *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->row > b->row) - (a->row < b->row);
}

/* Whether hit a ranks below hit b: a lower score, or the same score and a
 * later row. */
static int worse(float sa, uint64_t ra, float sb, uint64_t rb)
{
	return sa < sb || (sa == sb && ra > rb);
}

/* A heap of the best k hits so far, the worst at the root, so that ties at
 * the k-th place keep the first rows, as FAISS's heaps do. */
static void heap_push(struct fidx_hit *h, size_t *n, size_t k, float score, uint64_t row)
{
	size_t i, c;
	if (*n < k) {
		for (i = (*n)++; i > 0 && worse(score, row, h[(i - 1) / 2].score, h[(i - 1) / 2].row);
		     i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i].score = score;
		h[i].row = row;
		return;
	}
	if (!worse(h[0].score, h[0].row, score, row))
		return;
	for (i = 0; (c = 2 * i + 1) < k; i = c) {
		if (c + 1 < k && worse(h[c + 1].score, h[c + 1].row, h[c].score, h[c].row))
			c++;
		if (!worse(h[c].score, h[c].row, score, row))
			break;
		h[i] = h[c];
	}
	h[i].score = score;
	h[i].row = row;
}

#define SCAN_ROWS 1024
/* Rows below which one thread scans alone. */
#define SCAN_PARALLEL_FLOATS (1u << 20)
/* Up to this dimension, FAISS 1.7.3's fvec_inner_products_ny has kernels
 * for a fixed dimension that take rows in groups and the rest one by one,
 * rounding the two differently (measured for d = 2 and 4), so that a row's
 * score would depend on where a block starts: these go one row at a time. */
#define FAISS_FIXED_DIM_MAX 12

static void inner_products(float *ip, const float *q, const float *x, size_t d, size_t n)
{
	size_t j;
	if (d > FAISS_FIXED_DIM_MAX)
		faiss_fvec_inner_products_ny(ip, q, x, d, n);
	else
		for (j = 0; j < n; j++)
			faiss_fvec_inner_products_ny(ip + j, q, x + j * d, d, 1);
}

/* Each thread scans its share of the rows for every query. cand gets, per
 * query, nthreads heaps of up to kk hits: cand[(q * nt + t) * kk ...],
 * with their sizes in ncand. */
static int scan(const struct fidx_index *ix, const float *queries, size_t nq, size_t kk, int nt,
                struct fidx_hit *cand, size_t *ncand, struct fidx_err *err)
{
	uint64_t n = ix->meta.count;
	size_t d = ix->meta.dim;
	int failed = 0;

#pragma omp parallel num_threads(nt) if (nt > 1)
	{
		int t = omp_get_thread_num(), ntr = omp_get_num_threads();
		uint64_t lo = n * (uint64_t)t / (uint64_t)ntr, hi = n * (uint64_t)(t + 1) / (uint64_t)ntr;
		float *ip = malloc(SCAN_ROWS * sizeof *ip);
		size_t q;
		if (!ip) {
#pragma omp atomic write
			failed = 1;
		}
		for (q = 0; ip && q < nq; q++) {
			struct fidx_hit *h = cand + (q * (size_t)nt + (size_t)t) * kk;
			size_t m = 0;
			uint64_t r;
			size_t rows, j;
			for (r = lo; r < hi; r += rows) {
				const float *x;
				rows = hi - r < SCAN_ROWS ? (size_t)(hi - r) : SCAN_ROWS;
				x = rows_at(ix, r, &rows);
				inner_products(ip, queries + q * d, x, d, rows);
				for (j = 0; j < rows; j++)
					heap_push(h, &m, kk, ip[j], r + j);
			}
			ncand[q * (size_t)nt + (size_t)t] = m;
		}
		/* Threads the team did not get have no hits. */
		if (t == 0)
			for (q = 0; q < nq; q++) {
				int u;
				for (u = ntr; u < nt; u++)
					ncand[q * (size_t)nt + (size_t)u] = 0;
			}
		free(ip);
	}
	return failed ? fidx_err_nomem(err) : 0;
}

/* FAISS IndexFlatIP search of every shard with BLAS, one shard after the
 * other. Shard s writes each query's min(kk, its rows) hits at
 * cand[(q * ns + s) * kk]. Fewer queries than FAISS sends to BLAS (a
 * forced path) are padded with copies of the first. */
static int search_shards(struct fidx_index *ix, const float *queries, size_t nq, size_t kk,
                         struct fidx_hit *cand, size_t *ncand, struct fidx_err *err)
{
	size_t ns = ix->nshards, q, j, nb = nq < FAISS_BLAS_QUERIES ? FAISS_BLAS_QUERIES : nq;
	size_t d = ix->meta.dim;
	float *dist = malloc(nb * kk * sizeof *dist), *padded = NULL;
	idx_t *lab = malloc(nb * kk * sizeof *lab);
	long s;
	int rc = 0;

	if (nb > nq && (padded = malloc(nb * d * sizeof *padded)) != NULL) {
		memcpy(padded, queries, nq * d * sizeof *padded);
		for (q = nq; q < nb; q++)
			memcpy(padded + q * d, queries, d * sizeof *padded);
		queries = padded;
	}
	if (!dist || !lab || (nb > nq && !padded)) {
		free(dist);
		free(lab);
		free(padded);
		return fidx_err_nomem(err);
	}
	for (s = 0; s < (long)ns && !rc; s++) {
		const struct shard *sh = &ix->shards[s];
		size_t ks = kk < sh->n ? kk : (size_t)sh->n;
		if (ks && faiss_Index_search(sh->faiss, (idx_t)nb, queries, (idx_t)ks, dist, lab)) {
			rc = faiss_error(err, "search failed");
			break;
		}
		for (q = 0; q < nq; q++) {
			struct fidx_hit *h = cand + (q * ns + (size_t)s) * kk;
			size_t m = 0;
			for (j = 0; j < ks; j++) {
				idx_t r = lab[q * ks + j];
				if (r < 0 || (uint64_t)r >= sh->n)
					continue;
				h[m].row = sh->lo + (uint64_t)r;
				h[m].score = dist[q * ks + j];
				m++;
			}
			ncand[q * ns + (size_t)s] = m;
		}
	}
	free(dist);
	free(lab);
	free(padded);
	return rc;
}

int fidx_index_search(struct fidx_index *ix, const float *queries, size_t nq, size_t k,
                      struct fidx_hit *hits, size_t *counts, struct fidx_err *err)
{
	size_t kk = k < ix->meta.count ? k : (size_t)ix->meta.count, q, parts, j;
	struct fidx_hit *cand = NULL, *all = NULL;
	size_t *ncand = NULL;
	enum search_path path;
	int rc, nt = 1, forced;

	if (kk == 0 || nq == 0) {
		for (q = 0; q < nq; q++)
			counts[q] = 0;
		return 0;
	}
	if ((rc = search_path(nq, &path, &forced, err)) != 0)
		return rc;
	if (ix->x && path == PATH_BLAS && (rc = make_shards(ix, err)) != 0)
		return rc;
	if (path == PATH_SCAN) {
		/* A forced scan splits even a small index across the threads, so
		 * that tests cover the merging of their heaps. */
		nt = omp_get_max_threads();
		if (nt < 1 || (!forced && (uint64_t)ix->meta.count * ix->meta.dim < SCAN_PARALLEL_FLOATS))
			nt = 1;
		parts = (size_t)nt;
	} else {
		parts = ix->nshards;
	}
	cand = malloc(nq * parts * kk * sizeof *cand);
	ncand = malloc(nq * parts * sizeof *ncand);
	all = malloc(parts * kk * sizeof *all);
	if (!cand || !ncand || !all) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	rc = path == PATH_SCAN ? scan(ix, queries, nq, kk, nt, cand, ncand, err)
	                       : search_shards(ix, queries, nq, kk, cand, ncand, err);
	if (rc)
		goto out;
	for (q = 0; q < nq; q++) {
		size_t m = 0, p;
		for (p = 0; p < parts; p++)
			for (j = 0; j < ncand[q * parts + p]; j++)
				all[m++] = cand[(q * parts + p) * kk + j];
		/* The best kk of the parts: score, then row, as one scan of all
		 * the rows would have kept them; then ordered by score and id. */
		qsort(all, m, sizeof *all, by_score_row);
		if (m > kk)
			m = kk;
		memcpy(hits + q * k, all, m * sizeof *all);
		qsort_r(hits + q * k, m, sizeof *hits, hit_order, ix);
		counts[q] = m;
	}
out:
	free(cand);
	free(ncand);
	free(all);
	return rc;
}
