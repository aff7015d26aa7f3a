#include "index.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/faiss_c.h>
#include <faiss/c_api/utils/distances_c.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bytes.h"
#include "file.h"
#include "idset.h"
#include "number.h"
#include "quant.h"

/* A row's id or text read from the file on its own. */
struct fetched {
	uint64_t row; /* UINT64_MAX: a free slot */
	char *p;
	size_t len;
	int64_t num; /* integer ids: the id's value */
};

/* Ids or texts: all of them (blob), or, for an index opened lazily, those
 * of the rows search has fetched (got, a hash table by row). */
struct records {
	char *blob;
	uint64_t *off; /* of each record's length prefix */
	struct fidx_records *file;
	struct fetched *got;
	size_t ngot, cap;
};

/* How the vectors are held and searched.
 *
 * fidx_index_open leaves the vectors of a version 3 file where they are.
 * A few queries are answered in two passes (docs/FORMAT.md, Search): the
 * first scans the 8-bit codes, mapped from the file and checked block by
 * block, and bounds every row's score; the second decodes only the blocks
 * of vectors whose rows could reach the top k, and scores them with
 * FAISS's inner-product kernel (fvec_inner_products_ny), the kernel a full
 * scan uses, so the scores are the same bits. Every thread keeps its own
 * heaps; they are merged at the end.
 *
 * fidx_index_load, and fidx_index_open of older files, decode the file
 * on all threads straight into one buffer of fidx's (transparent huge
 * pages, so that filling it costs few page faults). A few queries are
 * answered from it with the same kernel, each thread over its own range
 * of rows.
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
	struct fidx_file *f; /* open while the vectors are left in the file */
	int codes_mapped;
	struct fidx_search_stats stats;
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
		l = fidx_le32(r->blob + pos);
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

static struct fetched *slot(const struct records *r, uint64_t row)
{
	size_t i = (size_t)(row * 0x9e3779b97f4a7c15ull >> 20) & (r->cap - 1);
	while (r->got[i].row != row && r->got[i].row != UINT64_MAX)
		i = (i + 1) & (r->cap - 1);
	return &r->got[i];
}

/* A row's record; a lazy index has it once fidx_index_search fetched it
 * (else, a mistake of fidx's, it gives an empty one). */
static const char *record(const struct records *r, uint64_t row, size_t *len)
{
	const struct fetched *g;
	if (r->blob) {
		*len = fidx_le32(r->blob + r->off[row]);
		return r->blob + r->off[row] + 4;
	}
	g = r->cap ? slot(r, row) : NULL;
	if (!g || g->row != row) {
		*len = 0;
		return "";
	}
	*len = g->len;
	return g->p;
}

static void records_free(struct records *r)
{
	size_t i;
	free(r->blob);
	free(r->off);
	fidx_records_close(r->file);
	for (i = 0; i < r->cap; i++)
		if (r->got[i].row != UINT64_MAX)
			free(r->got[i].p);
	free(r->got);
	memset(r, 0, sizeof *r);
}

/* Reads the record of a row from the file into r->got, unless it is
 * there; integer ids are checked and parsed. */
static int fetch(struct fidx_index *ix, struct records *r, int int_ids, uint64_t row, struct fidx_err *err)
{
	struct fetched *g;
	char *p;
	size_t len;
	int rc;

	if (r->blob || !r->file || (r->cap && slot(r, row)->row == row))
		return 0;
	if (2 * (r->ngot + 1) > r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 64, i;
		struct fetched *old = r->got, *ng = malloc(ncap * sizeof *ng);
		if (!ng)
			return fidx_err_nomem(err);
		for (i = 0; i < ncap; i++)
			ng[i].row = UINT64_MAX;
		r->got = ng;
		for (i = 0; i < r->cap; i++)
			if (old[i].row != UINT64_MAX) {
				size_t cap = r->cap;
				r->cap = ncap;
				*slot(r, old[i].row) = old[i];
				r->cap = cap;
			}
		free(old);
		r->cap = ncap;
	}
	if ((rc = fidx_records_get(r->file, row, &p, &len, err)) != 0)
		return rc;
	g = slot(r, row);
	g->row = row;
	g->p = p;
	g->len = len;
	g->num = 0;
	r->ngot++;
	if (int_ids && !fidx_parse_canonical_i64(p, len, &g->num))
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: an integer id is not an integer", ix->path);
	return 0;
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

/* PATH_FULL: the scan, without a version 3 file's first pass over the
 * codes (every row decoded and scored). */
enum search_path { PATH_SCAN, PATH_FULL, PATH_BLAS };

/* The way a search of nq queries goes: by nq, unless FIDX_TEST_SEARCH is
 * "scan", "full" or "blas" (*forced is then set), so that tests can run the
 * same queries each way and compare. It is honoured in every build, not only
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
	else if (*forced && strcmp(f, "full") == 0)
		*path = PATH_FULL;
	else if (*forced && strcmp(f, "blas") == 0)
		*path = PATH_BLAS;
	else if (*forced)
		return fidx_err_set(err, FIDX_EINPUT, "FIDX_TEST_SEARCH must be \"scan\", \"full\" or \"blas\", not \"%s\"",
		                    f);
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

/* Decodes all the rows into fidx's own buffer. */
static int load_vectors(struct fidx_index *ix, struct fidx_file *f, struct fidx_err *err)
{
	uint64_t n = ix->meta.count;
	if (ix->x || ix->shards)
		return 0;
	if (!(ix->x = map_rows((size_t)(n * ix->meta.dim * 4), &ix->x_len)))
		return fidx_err_nomem(err);
	return n ? fidx_file_read_vectors(f, ix->x, err) : 0;
}

/* Every id, and integer ids parsed. */
static int load_ids(struct fidx_index *ix, struct fidx_file *f, struct fidx_err *err)
{
	uint64_t n = ix->meta.count, i;
	int rc;
	if (ix->meta.id_kind == FIDX_IDS_IMPLICIT || ix->ids.blob)
		return 0;
	if ((rc = load_records(f, FIDX_SEC_IDS, n, &ix->ids, err)) != 0)
		return rc;
	if (ix->meta.id_kind == FIDX_IDS_INT) {
		if (!(ix->int_ids = malloc((size_t)n * sizeof *ix->int_ids + 1)))
			return fidx_err_nomem(err);
		for (i = 0; i < n; i++) {
			size_t len;
			const char *p = record(&ix->ids, i, &len);
			if (!fidx_parse_canonical_i64(p, len, &ix->int_ids[i]))
				return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: an integer id is not an integer",
				                    ix->path);
		}
	}
	return 0;
}

int fidx_index_all_ids(struct fidx_index *ix, struct fidx_err *err)
{
	return ix->f ? load_ids(ix, ix->f, err) : 0;
}

static int open_index(struct fidx_index **out, const char *path, int lazy, struct fidx_err *err)
{
	struct fidx_index *ix;
	struct fidx_file *f = NULL;
	uint64_t n;
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
	lazy = lazy && fidx_file_block_rows(f);
	/* Lazily, ids and texts are read a row at a time, as search needs them. */
	if (lazy) {
		ix->f = f;
		if ((ix->meta.id_kind != FIDX_IDS_IMPLICIT &&
		     (rc = fidx_records_open(&ix->ids.file, f, FIDX_SEC_IDS, err)) != 0) ||
		    (ix->meta.has_texts && (rc = fidx_records_open(&ix->texts.file, f, FIDX_SEC_TEXTS, err)) != 0))
			goto fail;
		*out = ix;
		return 0;
	}
	if ((rc = load_ids(ix, f, err)) != 0)
		goto fail;
	if ((ix->meta.has_texts && (rc = load_records(f, FIDX_SEC_TEXTS, n, &ix->texts, err)) != 0) ||
	    (rc = load_vectors(ix, f, err)) != 0)
		goto fail;
	fidx_file_close(f);
	*out = ix;
	return 0;
fail:
	if (ix->f != f)
		fidx_file_close(f);
	fidx_index_free(ix);
	return rc;
}

int fidx_index_load(struct fidx_index **ix, const char *path, struct fidx_err *err)
{
	return open_index(ix, path, 0, err);
}

int fidx_index_open(struct fidx_index **ix, const char *path, struct fidx_err *err)
{
	return open_index(ix, path, 1, err);
}

void fidx_index_free(struct fidx_index *ix)
{
	if (!ix)
		return;
	records_free(&ix->ids);
	records_free(&ix->texts);
	fidx_file_close(ix->f);
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
	if (!ix->shards)
		return NULL;
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

int fidx_index_row(struct fidx_index *ix, uint64_t row, float *out, struct fidx_err *err)
{
	struct fidx_block_reader *r;
	uint32_t per, got;
	size_t d = ix->meta.dim;
	float *buf;
	int rc;

	if (row >= ix->meta.count)
		return fidx_err_set(err, FIDX_EINTERNAL, "row %llu out of range", (unsigned long long)row);
	if (!ix->f) {
		memcpy(out, fidx_index_vector(ix, row), d * sizeof *out);
		return 0;
	}
	per = fidx_file_block_rows(ix->f);
	if (!(buf = malloc((size_t)per * d * sizeof *buf)))
		return fidx_err_nomem(err);
	if ((rc = fidx_block_reader_open(&r, ix->f, err)) == 0) {
		rc = fidx_block_read(r, (uint32_t)(row / per), NULL, buf, &got, err);
		if (!rc && row % per >= got)
			rc = fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: a block has too few rows", ix->path);
		if (!rc)
			memcpy(out, buf + row % per * d, d * sizeof *out);
		fidx_block_reader_close(r);
	}
	free(buf);
	return rc;
}

const struct fidx_search_stats *fidx_index_stats(const struct fidx_index *ix)
{
	return &ix->stats;
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
	if (ix->int_ids)
		return ix->int_ids[row];
	if (ix->meta.id_kind == FIDX_IDS_INT) {
		const struct fetched *g = ix->ids.cap ? slot(&ix->ids, row) : NULL;
		return g && g->row == row ? g->num : 0;
	}
	return (int64_t)row;
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
		int rc = fidx_index_all_ids(ix, err);
		if (rc)
			return rc;
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

/* Of the errors the threads met, the one at the lowest block reports,
 * so that a damaged file always gives the same message. */
static void first_error(long bad, const struct fidx_err *mine, long *first, struct fidx_err *err)
{
#pragma omp critical(fidx_index_first_error)
	if (bad < *first) {
		*first = bad;
		if (err)
			*err = *mine;
	}
}

/* Blocks of a lazy index scored exactly: each thread decodes its blocks
 * into its own buffer and scores their rows for every query, as scan()
 * does over rows in memory (same kernel, same heaps, same merging). blocks
 * lists the blocks (in order), or is NULL for all of them. */
static int block_scan(struct fidx_index *ix, const float *queries, size_t nq, size_t kk, int nt,
                      const uint32_t *blocks, size_t nblocks, struct fidx_hit *cand, size_t *ncand,
                      struct fidx_err *err)
{
	size_t d = ix->meta.dim, per = fidx_file_block_rows(ix->f), q;
	struct fidx_block_reader **readers = calloc((size_t)nt, sizeof *readers);
	long first_bad = LONG_MAX, i;
	uint64_t rows = 0;
	int t, rc = 0;

	if (!readers)
		return fidx_err_nomem(err);
	/* Opened here, before the threads: the first one reads the block
	 * directory. */
	for (t = 0; t < nt && !rc; t++)
		rc = fidx_block_reader_open(&readers[t], ix->f, err);
	if (rc)
		goto out;
	for (q = 0; q < nq * (size_t)nt; q++)
		ncand[q] = 0;
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(+ : rows)
	{
		int me = omp_get_thread_num();
		struct fidx_err mine = {0};
		float *x = malloc(per * d * sizeof *x), *ip = malloc(per * sizeof *ip);
		long bad = LONG_MAX;
		if (!x || !ip) {
			fidx_err_nomem(&mine);
			bad = -1;
		}
#pragma omp for schedule(dynamic, 4)
		for (i = 0; i < (long)nblocks; i++) {
			uint32_t b = blocks ? blocks[i] : (uint32_t)i, got, j;
			const unsigned char *codes = NULL;
			uint32_t ncodes;
			size_t qi;
			if (bad != LONG_MAX)
				continue;
			if (ix->codes_mapped && fidx_file_codes_block(ix->f, b, &codes, &ncodes, &mine) != 0) {
				bad = i;
				continue;
			}
			if (fidx_block_read(readers[me], b, codes, x, &got, &mine) != 0) {
				bad = i;
				continue;
			}
			rows += got;
			for (qi = 0; qi < nq; qi++) {
				struct fidx_hit *h = cand + (qi * (size_t)nt + (size_t)me) * kk;
				size_t *m = &ncand[qi * (size_t)nt + (size_t)me];
				inner_products(ip, queries + qi * d, x, d, got);
				for (j = 0; j < got; j++)
					heap_push(h, m, kk, ip[j], (uint64_t)b * per + j);
			}
		}
		first_error(bad, &mine, &first_bad, err);
		free(x);
		free(ip);
	}
	if (first_bad != LONG_MAX)
		rc = err && err->code ? err->code : FIDX_ECORRUPT;
	ix->stats.blocks_rescored += nblocks;
	ix->stats.rows_rescored += rows;
	for (t = 0; t < nt; t++)
		ix->stats.vector_bytes += readers[t] ? fidx_block_reader_bytes(readers[t]) : 0;
out:
	for (t = 0; t < nt; t++)
		fidx_block_reader_close(readers[t]);
	free(readers);
	return rc;
}

/* A heap of the kk largest lower bounds seen, the smallest at the root. */
static void low_push(double *h, size_t *n, size_t k, double v)
{
	size_t i, c;
	if (*n < k) {
		for (i = (*n)++; i > 0 && v < h[(i - 1) / 2]; i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = v;
		return;
	}
	if (!(v > h[0]))
		return;
	for (i = 0; (c = 2 * i + 1) < k; i = c) {
		if (c + 1 < k && h[c + 1] < h[c])
			c++;
		if (!(h[c] < v))
			break;
		h[i] = h[c];
	}
	h[i] = v;
}

static int by_value_desc(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a < b) - (a > b);
}

/* The first pass (docs/FORMAT.md, Search): bounds every row's score from
 * its codes, each block checked as it is read. A row whose upper bound is
 * below the kk-th largest lower bound has kk rows scoring strictly more:
 * it is not among the top kk. *need gets the blocks that have a row that
 * is, for some query. */
static int codes_pass(struct fidx_index *ix, const float *queries, size_t nq, size_t kk, int nt,
                      uint32_t **need, size_t *nneed, struct fidx_err *err)
{
	size_t d = ix->meta.dim, per = fidx_file_block_rows(ix->f), q, m, b;
	const struct fidx_section_info *cs = fidx_file_section(ix->f, FIDX_SEC_CODES);
	size_t nb = cs->block_count;
	struct fidx_quant_query *qq = calloc(nq, sizeof *qq);
	double *top = malloc(nq * (size_t)nt * kk * sizeof *top), *all = malloc((size_t)nt * kk * sizeof *all);
	double *maxhi = malloc(nq * nb * sizeof *maxhi), *floor_ = malloc(nq * sizeof *floor_);
	size_t *ntop = calloc(nq * (size_t)nt, sizeof *ntop);
	long first_bad = LONG_MAX, i;
	int rc = 0;

	*need = NULL;
	*nneed = 0;
	if (!qq || !top || !all || !maxhi || !floor_ || !ntop) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (q = 0; q < nq && !rc; q++)
		if (fidx_quant_query_init(&qq[q], queries + q * d, d))
			rc = fidx_err_nomem(err);
	if (rc || (!ix->codes_mapped && (rc = fidx_file_map_codes(ix->f, err)) != 0))
		goto out;
	ix->codes_mapped = 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
	{
		int me = omp_get_thread_num();
		struct fidx_err mine = {0};
		double *lo = malloc(per * sizeof *lo), *hi = malloc(per * sizeof *hi);
		long bad = LONG_MAX;
		if (!lo || !hi) {
			fidx_err_nomem(&mine);
			bad = -1;
		}
#pragma omp for schedule(dynamic, 16)
		for (i = 0; i < (long)nb; i++) {
			const unsigned char *recs;
			uint32_t rows, j;
			size_t qi;
			if (bad != LONG_MAX)
				continue;
			if (fidx_file_codes_block(ix->f, (uint32_t)i, &recs, &rows, &mine) != 0) {
				bad = i;
				continue;
			}
			for (qi = 0; qi < nq; qi++) {
				double *h = top + (qi * (size_t)nt + (size_t)me) * kk, best = -INFINITY;
				size_t *n = &ntop[qi * (size_t)nt + (size_t)me];
				fidx_quant_bounds(&qq[qi], recs, rows, d, lo, hi);
				for (j = 0; j < rows; j++) {
					low_push(h, n, kk, lo[j]);
					if (!(hi[j] <= best))
						best = hi[j];
				}
				maxhi[qi * nb + (size_t)i] = best;
			}
		}
		first_error(bad, &mine, &first_bad, err);
		free(lo);
		free(hi);
	}
	if (first_bad != LONG_MAX) {
		rc = err && err->code ? err->code : FIDX_ECORRUPT;
		goto out;
	}
	ix->stats.rows_scanned += ix->meta.count;
	ix->stats.code_bytes += cs->raw_bytes + (uint64_t)nb * 20;
	/* Each query's floor: the kk-th largest lower bound of all. */
	for (q = 0; q < nq; q++) {
		size_t t, j;
		m = 0;
		for (t = 0; t < (size_t)nt; t++)
			for (j = 0; j < ntop[q * (size_t)nt + t]; j++)
				all[m++] = top[(q * (size_t)nt + t) * kk + j];
		qsort(all, m, sizeof *all, by_value_desc);
		floor_[q] = m >= kk ? all[kk - 1] : -INFINITY;
	}
	if (!(*need = malloc((nb ? nb : 1) * sizeof **need))) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (b = 0; b < nb; b++)
		for (q = 0; q < nq; q++)
			if (!(maxhi[q * nb + b] < floor_[q])) {
				(*need)[(*nneed)++] = (uint32_t)b;
				break;
			}
out:
	if (qq)
		for (q = 0; q < nq; q++)
			fidx_quant_query_free(&qq[q]);
	free(qq);
	free(top);
	free(all);
	free(maxhi);
	free(floor_);
	free(ntop);
	return rc;
}

/* The ids and texts of n rows (row(i)), read from the file (a lazy
 * index); when they are a large part of the index, all of them at once. */
static int fetch_rows(struct fidx_index *ix, size_t n, uint64_t (*row)(const void *, size_t), const void *ctx,
                      struct fidx_err *err)
{
	size_t i;
	int rc = 0;
	if (!ix->f || (!ix->ids.file && !ix->texts.file))
		return 0;
	if (n > ix->meta.count / 16 + 64)
		return (rc = load_ids(ix, ix->f, err)) != 0 || !ix->texts.file || ix->texts.blob
		           ? rc
		           : load_records(ix->f, FIDX_SEC_TEXTS, ix->meta.count, &ix->texts, err);
	for (i = 0; i < n && !rc; i++)
		if ((rc = fetch(ix, &ix->ids, ix->meta.id_kind == FIDX_IDS_INT, row(ctx, i), err)) == 0)
			rc = fetch(ix, &ix->texts, 0, row(ctx, i), err);
	return rc;
}

static uint64_t hit_row(const void *h, size_t i) { return ((const struct fidx_hit *)h)[i].row; }
static uint64_t plain_row(const void *r, size_t i) { return ((const uint64_t *)r)[i]; }

int fidx_index_fetch(struct fidx_index *ix, const uint64_t *rows, size_t n, struct fidx_err *err)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (rows[i] >= ix->meta.count)
			return fidx_err_set(err, FIDX_EINTERNAL, "row %llu out of range", (unsigned long long)rows[i]);
	return fetch_rows(ix, n, plain_row, rows, err);
}

/* Top kk hits per query of a lazy index, parts = nt heaps per query; full:
 * every block decoded and scored, without the codes first (FIDX_TEST_SEARCH). */
static int lazy_search(struct fidx_index *ix, const float *queries, size_t nq, size_t kk, int nt, int full,
                       struct fidx_hit *cand, size_t *ncand, struct fidx_err *err)
{
	size_t nb = fidx_file_section(ix->f, FIDX_SEC_VECTORS)->block_count, nneed;
	uint32_t *need = NULL;
	int rc;

	/* Every row counts when kk is all of them. */
	if (full || kk >= ix->meta.count)
		return block_scan(ix, queries, nq, kk, nt, NULL, nb, cand, ncand, err);
	if ((rc = codes_pass(ix, queries, nq, kk, nt, &need, &nneed, err)) == 0)
		rc = block_scan(ix, queries, nq, kk, nt, need, nneed, cand, ncand, err);
	free(need);
	return rc;
}

int fidx_index_search(struct fidx_index *ix, const float *queries, size_t nq, size_t k,
                      struct fidx_hit *hits, size_t *counts, struct fidx_err *err)
{
	size_t kk = k < ix->meta.count ? k : (size_t)ix->meta.count, q, parts, j;
	struct fidx_hit *cand = NULL, *all = NULL;
	size_t *ncand = NULL;
	enum search_path path;
	int rc, nt = 1, forced, lazy;

	if (kk == 0 || nq == 0) {
		for (q = 0; q < nq; q++)
			counts[q] = 0;
		return 0;
	}
	if ((rc = search_path(nq, &path, &forced, err)) != 0)
		return rc;
	ix->stats.queries += nq;
	/* BLAS: the rows move into FAISS's own storage. */
	if (path == PATH_BLAS && !ix->shards &&
	    ((rc = load_vectors(ix, ix->f, err)) != 0 || (rc = make_shards(ix, err)) != 0))
		return rc;
	/* A version 3 file not loaded: codes first, then the candidate rows. */
	lazy = ix->f && !ix->x && !ix->shards;
	if (path != PATH_BLAS) {
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
	rc = path == PATH_BLAS ? search_shards(ix, queries, nq, kk, cand, ncand, err)
	     : lazy            ? lazy_search(ix, queries, nq, kk, nt, path == PATH_FULL, cand, ncand, err)
	                       : scan(ix, queries, nq, kk, nt, cand, ncand, err);
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
		if ((rc = fetch_rows(ix, m, hit_row, hits + q * k, err)) != 0)
			goto out;
		qsort_r(hits + q * k, m, sizeof *hits, hit_order, ix);
		counts[q] = m;
	}
out:
	free(cand);
	free(ncand);
	free(all);
	return rc;
}
