#include "index.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/faiss_c.h>
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

struct fidx_index {
	char *path;
	struct fidx_meta meta;
	FaissIndex *faiss;
	float *xb; /* owned by faiss */
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

/* Gives FAISS an IndexFlatIP of n rows and returns its storage, without
 * ever holding a second copy of the matrix: FAISS copies n rows from a
 * mapping of zero pages (which costs no memory), then fidx decodes the
 * file straight into FAISS's own buffer. */
static int make_faiss(struct fidx_index *ix, uint64_t n, uint32_t d, struct fidx_err *err)
{
	FaissIndexFlatIP *ip = NULL;
	size_t bytes = (size_t)(n * d * sizeof(float)), size = 0;
	void *zeros;

	if (faiss_IndexFlatIP_new_with(&ip, (idx_t)d))
		return faiss_error(err, "cannot create an IndexFlatIP");
	ix->faiss = (FaissIndex *)ip;
	if (n == 0)
		return 0;
	zeros = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (zeros == MAP_FAILED)
		return fidx_err_nomem(err);
	if (faiss_Index_add(ix->faiss, (idx_t)n, zeros)) {
		munmap(zeros, bytes);
		return faiss_error(err, "cannot allocate the vectors");
	}
	munmap(zeros, bytes);
	faiss_IndexFlat_xb(faiss_IndexFlat_cast(ix->faiss), &ix->xb, &size);
	if (!ix->xb || size != (size_t)n * d)
		return fidx_err_set(err, FIDX_EINTERNAL, "faiss: unexpected IndexFlat storage");
	return 0;
}

int fidx_index_load(struct fidx_index **out, const char *path, struct fidx_err *err)
{
	struct fidx_index *ix;
	struct fidx_file *f = NULL;
	char *json = NULL;
	size_t jlen;
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
	if ((rc = fidx_file_read_section(f, FIDX_SEC_META, 16u << 20, &json, &jlen, err)) != 0 ||
	    (rc = fidx_meta_parse(path, json, jlen, &ix->meta, err)) != 0)
		goto fail;
	if (ix->meta.dim != fidx_file_dim(f) || ix->meta.count != n ||
	    (ix->meta.id_kind != FIDX_IDS_IMPLICIT) != (fidx_file_section(f, FIDX_SEC_IDS) != NULL) ||
	    ix->meta.has_texts != (fidx_file_section(f, FIDX_SEC_TEXTS) != NULL)) {
		rc = fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: the metadata does not match the sections", path);
		goto fail;
	}
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
	if ((rc = make_faiss(ix, n, ix->meta.dim, err)) != 0)
		goto fail;
	if (n && (rc = fidx_file_read_vectors(f, ix->xb, err)) != 0)
		goto fail;
	free(json);
	fidx_file_close(f);
	*out = ix;
	return 0;
fail:
	free(json);
	fidx_file_close(f);
	fidx_index_free(ix);
	return rc;
}

void fidx_index_free(struct fidx_index *ix)
{
	if (!ix)
		return;
	if (ix->faiss)
		faiss_Index_free(ix->faiss);
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

const float *fidx_index_vector(const struct fidx_index *ix, uint64_t row)
{
	return ix->xb + row * ix->meta.dim;
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

int fidx_index_search(struct fidx_index *ix, const float *queries, size_t nq, size_t k,
                      struct fidx_hit *hits, size_t *counts, struct fidx_err *err)
{
	size_t kk = k < ix->meta.count ? k : (size_t)ix->meta.count, q, j;
	float *dist;
	idx_t *lab;

	if (kk == 0 || nq == 0) {
		for (q = 0; q < nq; q++)
			counts[q] = 0;
		return 0;
	}
	dist = malloc(nq * kk * sizeof *dist);
	lab = malloc(nq * kk * sizeof *lab);
	if (!dist || !lab) {
		free(dist);
		free(lab);
		return fidx_err_nomem(err);
	}
	if (faiss_Index_search(ix->faiss, (idx_t)nq, queries, (idx_t)kk, dist, lab)) {
		free(dist);
		free(lab);
		return faiss_error(err, "search failed");
	}
	for (q = 0; q < nq; q++) {
		struct fidx_hit *h = hits + q * k;
		size_t m = 0;
		for (j = 0; j < kk; j++) {
			idx_t r = lab[q * kk + j];
			if (r < 0 || (uint64_t)r >= ix->meta.count)
				continue;
			h[m].row = (uint64_t)r;
			h[m].score = dist[q * kk + j];
			m++;
		}
		qsort_r(h, m, sizeof *h, hit_order, ix);
		counts[q] = m;
	}
	free(dist);
	free(lab);
	return 0;
}
